// The client reviewer's page, from the emailed link (#/review/<token>): no sign-in. The link opens once
// (GET /review/{token} gives a reviewer credential, `hrv_...`, for one post); that credential is the bearer of
// the post's preview and of its approve and reject. It is kept for the tab so a reload still shows the post.
import * as api from "../api.js";
import { h, say, errorText, badge } from "../ui.js";

const KEPT = "herald.review.";

async function reviewSession(token) {
  const kept = sessionStorage.getItem(KEPT + token);
  if (kept) {
    const session = JSON.parse(kept);
    if (Date.parse(session.expires_at) > Date.now()) return session;
  }
  const session = await api.get_review_token({ token }, undefined, { anonymous: true });
  sessionStorage.setItem(KEPT + token, JSON.stringify(session));
  return session;
}

function networkCard(network) {
  return h("li", { class: "card" },
    h("p", { class: "hint" }, `${network.channel_name}${network.handle ? ` (@${network.handle})` : ""} · ${network.network}`),
    h("p", { class: "post-text" }, network.text),
    h("p", { class: network.fits ? "hint" : "error" }, `${network.length} of ${network.limit} ${network.unit}`));
}

export async function reviewScreen(main, token) {
  document.title = "Review · Herald";
  main.append(h("h1", {}, "Review"));
  if (!api.available("get_review_token")) {
    main.append(h("p", {}, "This Herald does not offer client reviews."));
    return;
  }
  let session;
  let preview;
  try {
    session = await reviewSession(token);
    preview = await api.get_posts_post_id_preview({ post_id: session.post_id }, undefined, { bearer: session.credential });
  } catch (error) {
    main.append(h("p", { class: "error", role: "alert" }, errorText(error)));
    return;
  }
  const options = { bearer: session.credential };
  const comment = h("textarea", { id: "review-comment", rows: 3 });
  const decide = (label, run) => h("button", { type: "button", class: label === "Approve" ? "primary" : "", on: { click: async () => {
    try { await run(); say(`${label}: thank you.`); main.querySelector(".actions").remove(); }
    catch (error) { say(errorText(error), "error"); }
  } } }, label);
  const approve = () => api.post_posts_post_id_approve({ post_id: preview.post_id },
    { version: preview.version, comment: comment.value || undefined }, options);
  const reject = () => {
    if (!comment.value.trim()) throw new Error("Say what should change in the comment.");
    return api.post_posts_post_id_reject({ post_id: preview.post_id }, { version: preview.version, comment: comment.value }, options);
  };
  main.append(
    h("p", {}, `For ${session.reviewer}`), badge(preview.status),
    preview.publish_at ? h("p", { class: "hint" }, `Planned for ${new Date(preview.publish_at).toLocaleString()}`) : "",
    h("ul", { class: "review-posts" }, (preview.networks || []).map(networkCard)),
    h("div", { class: "field" }, h("label", { for: "review-comment" }, "Comment (optional to approve, needed to ask for changes)"), comment),
    h("div", { class: "actions" }, decide("Approve", approve), decide("Ask for changes", reject)));
}
