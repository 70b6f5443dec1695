// The client reviewer's page, from the emailed link (#/review/<token>): no sign-in, the token is the key.
import * as api from "../api.js";
import { h, say, errorText, badge } from "../ui.js";

export async function reviewScreen(main, token) {
  document.title = "Review · Herald";
  main.append(h("h1", {}, "Review"));
  if (!api.available("get_review_token")) {
    main.append(h("p", {}, "This Herald does not offer client reviews."));
    return;
  }
  let review;
  try { review = await api.get_review_token({ token }, undefined, { anonymous: true }); } catch (error) {
    main.append(h("p", { class: "error", role: "alert" }, errorText(error)));
    return;
  }
  const posts = review.posts || (review.post ? [review.post] : []);
  const comment = h("textarea", { id: "review-comment", rows: 3 });
  const decide = (name, call, label) => (api.available(name) ? h("button", { type: "button", class: name.endsWith("approve") ? "primary" : "",
    on: { click: async () => {
      try { await call({ token }, { comment: comment.value || undefined }, { anonymous: true }); say(`${label}: thank you.`); main.querySelector(".actions").remove(); }
      catch (error) { say(errorText(error), "error"); }
    } } }, label) : "");
  main.append(
    review.workspace ? h("p", {}, `For ${review.workspace.name || review.workspace}`) : "",
    h("ul", { class: "review-posts" }, posts.map((post) => h("li", { class: "card" }, badge(post.status || "pending_approval"),
      h("p", { class: "post-text" }, post.text), post.publish_at ? h("p", { class: "hint" }, `Planned for ${post.publish_at}`) : ""))),
    h("div", { class: "field" }, h("label", { for: "review-comment" }, "Comment (optional)"), comment),
    h("div", { class: "actions" }, decide("post_review_token_approve", api.post_review_token_approve, "Approve"),
      decide("post_review_token_reject", api.post_review_token_reject, "Ask for changes")));
}
