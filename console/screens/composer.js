// The composer: one text, a tab per channel for its own variant, checked as you type by the API's own rules
// (POST /posts/validate), media uploaded straight to storage with progress, first comment, thread parts.
import * as api from "../api.js";
import { enumOf, hasProperty } from "../features.js";
import { h, clear, field, say, errorText, uid } from "../ui.js";
import { localDate, localTime, today, zonedToUtc } from "../time.js";
import { previewOf } from "../preview.js";

const count = (text) => [...(text || "")].length;

// One network's preview (console/preview.js): the account, the text as the network shows it (cut at its
// limit), its media, the link card it draws, the thread and the first comment.
function previewCard(view) {
  return h("article", { class: `preview net-${view.network}`, dataset: { channelId: view.channelId },
    "aria-label": `On ${view.name}` },
  h("header", {}, h("strong", {}, view.name), " ", h("span", { class: "handle" }, view.handle), " ",
    h("span", { class: "network" }, `· ${view.network}`)),
  h("p", { class: "post-text" }, view.text || "(no text)", view.cutOff ? h("span", { class: "cut" }, "…") : ""),
  view.cutOff ? h("p", { class: "error" }, "Cut at the limit: the rest is not shown, and the post cannot be saved "
    + "until it fits (or give this network its own shorter text).") : "",
  view.media.length ? h("ul", { class: "preview-media" }, view.media.map((m) => h("li", { class: m.accepted ? "" : "error" },
    m.accepted ? m.label : `${m.label}: not taken here`))) : "",
  view.mediaLeftOut ? h("p", { class: "error" }, `${view.mediaLeftOut} more media left out (over this network's count).`) : "",
  view.card ? h("div", { class: "link-card" }, h("strong", {}, view.card.host),
    h("span", { class: "hint" }, `Link card: ${view.card.url}`)) : "",
  view.thread.map((part) => h("p", { class: "thread-part" }, part)),
  view.firstComment ? h("p", { class: "hint" }, `First comment: ${view.firstComment}`) : "",
  h("p", { class: view.fits ? "hint count" : "error count" }, view.count));
}

function upload(file, target, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(target.upload_method || "PUT", target.upload_url);
    for (const [name, value] of Object.entries(target.upload_headers || {})) {
      if (name.toLowerCase() !== "content-length") request.setRequestHeader(name, value);
    }
    if (!Object.keys(target.upload_headers || {}).some((n) => n.toLowerCase() === "content-type")) {
      request.setRequestHeader("Content-Type", file.type);
    }
    request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`The upload answered ${request.status}`)));
    request.onerror = () => reject(new Error("The upload could not reach storage"));
    request.send(file);
  });
}

export async function composerScreen(main, context, args) {
  const tz = context.workspace.timezone;
  const [mode, value, channelArg] = args;
  let editing = null;
  if (mode === "edit" && value) editing = await api.get_posts_post_id({ post_id: value });
  const draft = {
    text: editing?.text || "", channel_ids: editing?.channel_ids || (channelArg ? [channelArg] : []),
    variants: {}, media: (editing?.media || []).map((m) => ({ ...m })), thread: (editing?.thread || []).map((p) => ({ text: p.text })),
    first_comment: editing?.first_comment || "",
  };
  for (const [cid, variant] of Object.entries(editing?.variants || {})) if (variant.text) draft.variants[cid] = { text: variant.text };
  const at = editing?.publish_at;
  const date = h("input", { type: "date", id: "publish-date", value: at ? localDate(at, tz) : (mode === "at" ? value.slice(0, 10) : today(tz)) });
  const time = h("input", { type: "time", step: "1", id: "publish-time", value: at ? localTime(at, tz, true) : (mode === "at" ? value.slice(11, 16) : "") });
  const publishable = context.channels.filter((c) => c.status !== "disabled");

  const problems = h("ul", { class: "problems", id: "composer-problems", "aria-live": "polite" });
  const verdict = h("p", { class: "verdict", id: "composer-verdict", "aria-live": "polite" });
  const tabs = h("div", { role: "tablist", "aria-label": "Text for each network", class: "tabs" });
  const panel = h("div", { class: "tab-panel", role: "tabpanel", id: "variant-panel" });
  const preview = h("div", { class: "previews", id: "composer-preview" });
  const previewTitle = h("h2", { id: "preview-title" }, "Preview");
  let shown = {}; // channel id: how its network shows the post, from the last POST /posts/validate
  const mediaList = h("ul", { class: "media" });
  const threadList = h("div", { class: "thread" });
  let active = "all";
  let timer = null;

  const mainText = h("textarea", { id: "composer-text", rows: 6, value: draft.text, "aria-describedby": "composer-count composer-problems",
    on: { input: () => { draft.text = mainText.value; changed(); } } });
  const counter = h("p", { class: "hint", id: "composer-count" });
  const firstComment = h("textarea", { id: "first-comment", rows: 2, value: draft.first_comment,
    on: { input: () => { draft.first_comment = firstComment.value; changed(); } } });

  function body(status) {
    const variants = {};
    for (const [cid, variant] of Object.entries(draft.variants)) {
      if (draft.channel_ids.includes(cid) && variant.text) variants[cid] = { text: variant.text };
    }
    const out = { text: draft.text, channel_ids: draft.channel_ids, variants,
      media: draft.media.map((m) => ({ media_id: m.media_id, ...(m.alt ? { alt: m.alt } : {}) })),
      thread: draft.thread.filter((p) => p.text).map((p) => ({ text: p.text })) };
    if (draft.first_comment) out.first_comment = draft.first_comment;
    if (date.value && time.value) out.publish_at = zonedToUtc(date.value, time.value, tz);
    if (status) out.status = status;
    return out;
  }

  function renderTabs() {
    clear(tabs);
    const ids = ["all", ...draft.channel_ids];
    if (!ids.includes(active)) active = "all";
    for (const id of ids) {
      const channel = context.channel(id);
      const label = id === "all" ? "All networks" : `${channel?.name || id} (${channel?.network || "?"})`;
      tabs.append(h("button", { type: "button", role: "tab", id: `tab-${id}`, "aria-controls": "variant-panel",
        "aria-selected": String(id === active), tabindex: id === active ? "0" : "-1",
        on: { click: () => { active = id; renderTabs(); }, keydown: (event) => {
          const at = ids.indexOf(active);
          if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
            active = ids[(at + (event.key === "ArrowRight" ? 1 : ids.length - 1)) % ids.length];
            renderTabs();
            tabs.querySelector(`#tab-${CSS.escape(active)}`).focus();
          }
        } } }, label));
    }
    clear(panel);
    panel.setAttribute("aria-labelledby", `tab-${active}`);
    if (active === "all") {
      panel.append(field("Text", mainText), counter);
    } else {
      const variantText = h("textarea", { rows: 6, id: `variant-${active}`, value: draft.variants[active]?.text || "",
        placeholder: draft.text, on: { input: () => { draft.variants[active] = { text: variantText.value }; changed(); } } });
      panel.append(field(`Text on ${context.channel(active)?.name || active}`, variantText,
        "Leave empty to publish the main text here."));
    }
    renderPreview();
  }

  // On a network's tab, that network's preview; on "All networks", each chosen channel's.
  function renderPreview() {
    clear(preview);
    const ids = active === "all" ? draft.channel_ids : [active];
    previewTitle.textContent = active === "all" ? "Preview on each network"
      : `Preview on ${context.channel(active)?.name || active}`;
    for (const id of ids) {
      const channel = context.channel(id) || { id, name: id, network: "?" };
      const typed = { text: draft.variants[id]?.text || draft.text, media: draft.media, thread: draft.thread,
        first_comment: draft.first_comment };
      preview.append(previewCard(previewOf(channel, shown[id], typed)));
    }
  }

  function showProblems(list) {
    clear(problems);
    for (const p of list) {
      problems.append(h("li", {}, `${p.network ? `${p.network}: ` : ""}${p.field ? `${p.field} ` : ""}${p.message}`));
    }
    verdict.textContent = list.length ? `${list.length} problem${list.length > 1 ? "s" : ""} to fix before saving.` : "Ready to save.";
    verdict.dataset.valid = String(!list.length);
    mainText.setAttribute("aria-invalid", String(list.some((p) => p.field === "text")));
  }

  async function validate() {
    if (!draft.channel_ids.length) { showProblems([{ message: "Choose at least one channel." }]); return; }
    try {
      const answer = await api.post_posts_validate({}, body(date.value && time.value ? "scheduled" : "draft"));
      shown = Object.fromEntries((answer.networks || []).map((n) => [n.channel_id, n]));
      showProblems(answer.problems);
    } catch (error) {
      shown = {};
      showProblems(error.details?.length ? error.details : [{ message: errorText(error) }]);
    }
    renderPreview();
  }

  function changed() {
    counter.textContent = `${count(draft.text)} characters`;
    renderPreview();
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  }

  const channelBoxes = h("fieldset", { class: "channels" }, h("legend", {}, "Publish to"),
    publishable.length ? publishable.map((channel) => {
      const box = h("input", { type: "checkbox", id: uid("ch"), value: channel.id, checked: draft.channel_ids.includes(channel.id),
        dataset: { channelId: channel.id }, on: { change: () => {
          draft.channel_ids = publishable.filter((c) => channelBoxes.querySelector(`[data-channel-id="${c.id}"]`).checked).map((c) => c.id);
          renderTabs(); changed();
        } } });
      return h("div", { class: "check" }, box, h("label", { for: box.id }, `${channel.name} (${channel.network})`));
    }) : h("p", {}, "No channels yet: ", h("a", { href: "#/channels" }, "connect one"), " first."));

  const fileInput = h("input", { type: "file", accept: "image/*,video/*,application/pdf", id: "media-file",
    on: { change: async () => {
      const file = fileInput.files[0];
      if (!file) return;
      const progress = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
      const item = h("li", {}, `${file.name} `, progress);
      mediaList.append(item);
      try {
        const target = await api.post_media({}, { filename: file.name, mime: file.type || "application/octet-stream", size: file.size });
        await upload(file, target, (share) => { progress.value = share; });
        progress.value = 1;
        const entry = { media_id: target.id, name: file.name, alt: "" };
        draft.media.push(entry);
        const alt = h("input", { type: "text", id: uid("alt"), on: { input: () => { entry.alt = alt.value; changed(); } } });
        const remove = h("button", { type: "button", class: "quiet", on: { click: () => {
          draft.media = draft.media.filter((m) => m !== entry); item.remove(); changed(); } } }, `Remove ${file.name}`);
        item.replaceChildren(h("span", {}, `${file.name} uploaded`), field(`Alt text for ${file.name}`, alt), remove);
        say(`${file.name} uploaded.`);
        changed();
      } catch (error) {
        item.replaceChildren(h("span", { class: "error" }, `${file.name}: ${errorText(error)}`));
      }
      fileInput.value = "";
    } } });

  function renderThread() {
    clear(threadList);
    draft.thread.forEach((part, i) => {
      const text = h("textarea", { rows: 2, id: uid("part"), value: part.text, on: { input: () => { part.text = text.value; changed(); } } });
      threadList.append(h("div", { class: "part" }, field(`Thread part ${i + 2}`, text),
        h("button", { type: "button", class: "quiet", on: { click: () => { draft.thread.splice(i, 1); renderThread(); changed(); } } },
          `Remove part ${i + 2}`)));
    });
  }

  async function save(kind) {
    try {
      let post;
      if (editing) {
        const changes = { ...body(kind === "scheduled" ? "scheduled" : kind === "draft" ? "draft" : undefined), version: editing.version };
        post = await api.patch_posts_post_id({ post_id: editing.id }, changes);
      } else if (kind === "queue") {
        post = await api.post_posts({}, { ...body(), queue: true });
      } else {
        post = await api.post_posts({}, body(kind === "now" ? "draft" : kind));
      }
      if (kind === "now") post = await api.post_posts_post_id_publish_now({ post_id: post.id });
      const words = { draft: "Draft saved.", scheduled: "Scheduled.", now: "Publishing now.", queue: "Added to the queue.",
        pending_approval: "Sent for approval." };
      say(words[kind] || "Saved.");
      context.go("#/calendar");
    } catch (error) {
      say(errorText(error), "error");
      if (error.details?.length) showProblems(error.details);
      if (error.code === "version_conflict") editing = await api.get_posts_post_id({ post_id: editing.id });
    }
  }

  const button = (label, kind, cls = "") => h("button", { type: "button", class: cls, dataset: { action: kind },
    on: { click: () => save(kind) } }, label);
  const actions = [button("Save draft", "draft"), button(editing ? "Save and schedule" : "Schedule", "scheduled", "primary"),
    editing ? "" : button("Publish now", "now")];
  if (!editing && hasProperty("PostCreate", "queue")) actions.push(button("Add to queue", "queue"));
  if (enumOf("PostCreate", "status").includes("pending_approval")) actions.push(button("Send for approval", "pending_approval"));

  main.append(h("div", { class: "screen-head" }, h("h1", {}, editing ? "Edit post" : "Compose"),
    h("p", { class: "tz-note" }, `Times in ${tz}`)),
  h("div", { class: "composer" },
    h("form", { class: "editor", "aria-label": "Post", on: { submit: (e) => e.preventDefault() } },
      channelBoxes, tabs, panel,
      h("fieldset", {}, h("legend", {}, "Media"), field("Add an image, video or PDF", fileInput), mediaList),
      h("fieldset", {}, h("legend", {}, "Thread"), threadList,
        h("button", { type: "button", on: { click: () => { draft.thread.push({ text: "" }); renderThread(); } } }, "Add a thread part")),
      field("First comment", firstComment, "Added under the post once it is out (Instagram, Facebook, LinkedIn).")),
    h("aside", { class: "preview-pane" },
      h("fieldset", { class: "when" }, h("legend", {}, `When (${tz})`),
        field("Date", date), field("Time", time)),
      verdict, problems,
      h("div", { class: "actions" }, actions),
      h("section", { "aria-labelledby": "preview-title" }, previewTitle, preview))));
  for (const input of [date, time]) input.addEventListener("input", changed);
  renderTabs();
  renderThread();
  changed();
  mainText.focus();
}
