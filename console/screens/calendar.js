// The calendar: month and week, posts coloured by status (and labelled: colour is never the only sign), drag a
// post to another day or move it from its dialog by keyboard; a stale version (409) is "changed by someone else".
import * as api from "../api.js";
import { h, clear, field, say, errorText, badge, poll, statusLabel } from "../ui.js";
import { addDays, localDate, localTime, longDate, monthOf, monthTitle, shiftMonth, shortDay, today, weekday,
  zonedToUtc } from "../time.js";

const LEGEND = ["draft", "pending_approval", "scheduled", "publishing", "published", "partially_published",
  "failed", "unknown"];
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const state = { view: "month", anchor: null, agency: false };

function visibleDays(view, anchor) {
  if (view === "week") {
    const monday = addDays(anchor, -weekday(anchor));
    return Array.from({ length: 7 }, (_, i) => addDays(monday, i));
  }
  const first = `${monthOf(anchor)}-01`;
  const start = addDays(first, -weekday(first));
  const last = addDays(`${shiftMonth(monthOf(anchor), 1)}-01`, -1);
  const end = addDays(last, 6 - weekday(last));
  const days = [];
  for (let day = start; day <= end; day = addDays(day, 1)) days.push(day);
  return days;
}

async function postsByDay(days) {
  const months = [...new Set(days.map(monthOf))];
  const read = state.agency ? api.get_agency_calendar : api.get_calendar; // the agency's: every workspace
  const answers = await Promise.all(months.map((month) => read({ month })));
  const byDay = {};
  for (const answer of answers) for (const day of answer.days) byDay[day.date] = day.posts;
  return byDay;
}

// Queue slots as empty places to fill (where the API has queues): [{date, time, channel}] for the visible days.
async function queueSlots(context, days) {
  if (!api.available("get_channels_channel_id_queue")) return [];
  const slots = [];
  for (const channel of context.channels) {
    let queue;
    try { queue = await api.get_channels_channel_id_queue({ channel_id: channel.id }); } catch { continue; }
    for (const slot of queue.slots || queue.items || []) {
      const dayName = String(slot.weekday ?? slot.day ?? "").slice(0, 3).toLowerCase();
      const time = String(slot.time || slot.at || "").slice(0, 5);
      for (const date of days) {
        const index = typeof slot.weekday === "number" ? slot.weekday : WEEKDAYS.map((d) => d.toLowerCase()).indexOf(dayName);
        if (index === weekday(date) && time) slots.push({ date, time, channel });
      }
    }
  }
  return slots;
}

// What a post's approval round says: each decision, who made it and why (a rejection always says why).
function approvalList(approval) {
  if (!approval) return "";
  const words = { pending: "Waiting for approval", approved: "Approved", rejected: "Changes requested" };
  return [h("h3", {}, words[approval.status] || `Approval: ${approval.status}`),
    h("ul", { class: "approval", id: "post-approval" }, (approval.decisions || []).map((d) => h("li", {
      class: d.decision }, h("strong", {}, `${d.decision === "rejected" ? "Changes asked" : "Approved"} by `
      + `${d.by_name || d.by_email || d.by}`), d.comment ? `: “${d.comment}”` : "")))];
}

// The post's comments (the team's and the client reviewer's), and a box to add one (@mention a member).
async function commentsSection(postId, onAdded) {
  if (!api.available("get_posts_post_id_comments")) return "";
  let page;
  try { page = await api.get_posts_post_id_comments({ post_id: postId, limit: 100 }); } catch { return ""; }
  const text = h("textarea", { id: "comment-text", rows: 2 });
  const form = h("form", { class: "comment-form", "aria-label": "Add a comment", on: { submit: async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    try { await api.post_posts_post_id_comments({ post_id: postId }, { text: text.value }); say("Comment added."); onAdded(); }
    catch (error) { say(errorText(error), "error"); }
  } } }, field("Comment (@name to mention a member)", text), h("button", { type: "submit" }, "Comment"));
  return [h("h3", {}, "Comments"),
    h("ul", { class: "comments", id: "post-comments" }, page.items.length ? page.items.map((c) => h("li", {},
      h("strong", {}, `${c.author?.name || c.author?.id || "someone"}: `), c.text)) : h("li", {}, "No comments yet.")),
    form];
}

export async function calendarScreen(main, context, args = []) {
  const tz = context.workspace.timezone;
  const [mode, postArg] = args;
  const opening = mode === "post" && postArg ? postArg : null; // #/calendar/post/<id>, the emails' links
  state.anchor = state.anchor || today(tz);
  const heading = h("h1", { id: "calendar-title" });
  const grid = h("div", { class: "calendar", id: "calendar-grid" });
  const dialog = h("dialog", { id: "post-dialog", "aria-labelledby": "post-dialog-title" });
  let drag = null;
  let lastShown = "";
  let renders = 0;
  let forced = false;

  const viewButton = (view, label) => h("button", { type: "button", "aria-pressed": String(state.view === view),
    dataset: { view }, on: { click: () => { state.view = view; render(true); } } }, label);
  const toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Calendar view" },
    h("button", { type: "button", on: { click: () => step(-1) } }, h("span", { "aria-hidden": "true" }, "‹ "), "Previous"),
    h("button", { type: "button", on: { click: () => { state.anchor = today(tz); render(true); } } }, "Today"),
    h("button", { type: "button", on: { click: () => step(1) } }, "Next", h("span", { "aria-hidden": "true" }, " ›")),
    h("span", { class: "spacer" }),
    viewButton("month", "Month"), viewButton("week", "Week"),
    api.available("get_agency_calendar") ? h("button", { type: "button", "aria-pressed": String(state.agency), id: "agency-view",
      on: { click: (event) => { state.agency = !state.agency; event.currentTarget.setAttribute("aria-pressed", String(state.agency)); render(true); } } },
    "All workspaces") : "",
    h("a", { class: "button primary", href: "#/compose" }, "New post"));

  function step(by) {
    state.anchor = state.view === "week" ? addDays(state.anchor, 7 * by) : `${shiftMonth(monthOf(state.anchor), by)}-01`;
    render(true);
  }

  async function move(postId, date, time, version) {
    try {
      const post = await api.patch_posts_post_id({ post_id: postId }, { publish_at: zonedToUtc(date, time, tz), version });
      say(`Moved to ${longDate(date)} at ${time} (${tz}).`);
      await render(true);
      return post;
    } catch (error) {
      say(errorText(error), "error");
      await render(true);
      return null;
    }
  }

  function chip(post) {
    const time = post.publish_at ? localTime(post.publish_at, tz) : "";
    const names = post.channel_ids.map((id) => context.channel(id)?.name || id).join(", ");
    const button = h("button", { type: "button", class: `post status-${post.status}`, draggable: state.agency ? "false" : "true",
      dataset: { postId: post.id, status: post.status },
      "aria-label": `${time} ${post.text_preview || "(no text)"}, ${statusLabel(post.status)}, on ${names}`,
      on: {
        click: () => openPost(post.id),
        dragstart: (event) => {
          event.dataTransfer.setData("text/plain", post.id);
          event.dataTransfer.effectAllowed = "move";
          drag = { id: post.id, time: post.publish_at ? localTime(post.publish_at, tz, true) : "09:00", version: api.get_posts_post_id({ post_id: post.id }).then((p) => p.version) };
        },
      } },
    h("span", { class: "time" }, time), " ",
    post.workspace_name ? h("span", { class: "workspace" }, `${post.workspace_name}: `) : "",
    h("span", { class: "text" }, post.text_preview || "(no text)"), " ",
    badge(post.status));
    return button;
  }

  function dayCell(date, posts, slots, focusMonth) {
    const list = h("ul", { class: "posts" }, posts.map((post) => h("li", {}, chip(post))));
    for (const slot of slots) {
      list.append(h("li", {}, h("a", { class: "slot", href: `#/compose/at/${date}T${slot.time}/${slot.channel.id}`,
        "aria-label": `Open queue slot ${slot.time} on ${slot.channel.name}: fill it` }, `${slot.time} open slot · ${slot.channel.name}`)));
    }
    const outside = state.view === "month" && monthOf(date) !== focusMonth;
    const cell = h("section", { class: `day${outside ? " outside" : ""}${date === today(tz) ? " today" : ""}`,
      dataset: { date }, "aria-label": longDate(date),
      on: {
        dragover: (event) => { event.preventDefault(); cell.classList.add("over"); },
        dragleave: () => cell.classList.remove("over"),
        drop: async (event) => {
          event.preventDefault();
          cell.classList.remove("over");
          if (!drag) return;
          const moving = drag;
          drag = null;
          await move(moving.id, date, moving.time, await moving.version);
        },
      } },
    h("header", {}, h("span", { class: "date" }, state.view === "week" ? shortDay(date) : String(Number(date.slice(8)))),
      h("a", { class: "add", href: `#/compose/at/${date}T09:00`, "aria-label": `New post on ${longDate(date)}` }, "+")),
    list);
    return cell;
  }

  async function render(force = false) {
    const days = visibleDays(state.view, state.anchor);
    const asked = ++renders;
    if (force) forced = true; // kept for the render that draws, should a later one supersede this
    const [byDay, slots] = await Promise.all([postsByDay(days), queueSlots(context, days)]);
    // A later render (the view or the week changed meanwhile, or a poll) draws instead: an answer that comes
    // back after it must not draw the days it was asked for under the other view's name.
    if (asked !== renders) return;
    const shown = JSON.stringify([state.view, state.anchor, byDay, slots.length]);
    if (!forced && shown === lastShown) return;
    forced = false;
    lastShown = shown;
    const focused = document.activeElement?.dataset?.postId;
    heading.textContent = state.view === "week" ? `Week of ${longDate(days[0])}` : monthTitle(monthOf(state.anchor));
    for (const button of toolbar.querySelectorAll("[data-view]")) button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
    clear(grid);
    grid.className = `calendar ${state.view}`;
    if (state.view === "month") grid.append(...WEEKDAYS.map((d) => h("div", { class: "weekday", "aria-hidden": "true" }, d)));
    const focusMonth = monthOf(state.anchor);
    for (const date of days) grid.append(dayCell(date, byDay[date] || [], slots.filter((s) => s.date === date), focusMonth));
    if (focused) grid.querySelector(`[data-post-id="${focused}"]`)?.focus();
  }

  async function openPost(postId) {
    let post;
    try { post = await api.get_posts_post_id({ post_id: postId }); } catch (error) { say(errorText(error), "error"); return; }
    clear(dialog);
    const date = h("input", { type: "date", value: post.publish_at ? localDate(post.publish_at, tz) : today(tz), id: "move-date" });
    const time = h("input", { type: "time", step: "1", value: post.publish_at ? localTime(post.publish_at, tz, true) : "09:00:00",
      id: "move-time" });
    const editable = ["draft", "scheduled", "pending_approval"].includes(post.status);
    const action = (label, run, cls = "") => h("button", { type: "button", class: cls, on: { click: async () => {
      try { await run(); dialog.close(); await render(true); } catch (error) { say(errorText(error), "error"); }
    } } }, label);
    const actions = [];
    if (editable) actions.push(h("a", { class: "button", href: `#/compose/edit/${post.id}`, on: { click: () => dialog.close() } }, "Edit"));
    if (editable) actions.push(action("Publish now", async () => { await api.post_posts_post_id_publish_now({ post_id: post.id }); say("Publishing now."); }));
    if (post.status === "pending_approval" && api.available("post_posts_post_id_approve")) {
      // A decision names the version it was made on; a rejection says why (the API requires a comment).
      actions.push(action("Approve", async () => { await api.post_posts_post_id_approve({ post_id: post.id }, { version: post.version }); say("Approved."); }, "primary"));
      actions.push(action("Reject", async () => {
        const comment = window.prompt("What should change?");
        if (!comment) return;
        await api.post_posts_post_id_reject({ post_id: post.id }, { version: post.version, comment }); say("Rejected.");
      }));
    }
    if (!["published", "canceled", "failed"].includes(post.status)) {
      actions.push(action("Cancel post", async () => { await api.post_posts_post_id_cancel({ post_id: post.id }); say("Canceled."); }, "danger"));
    }
    const comments = await commentsSection(post.id, () => openPost(post.id));
    dialog.append(
      h("h2", { id: "post-dialog-title" }, "Post"), badge(post.status),
      h("p", { class: "post-text" }, post.text || "(no text)"),
      h("p", {}, post.publish_at ? `${longDate(localDate(post.publish_at, tz))} at ${localTime(post.publish_at, tz)} (${tz})` : "No time yet"),
      h("h3", {}, "Deliveries"),
      h("ul", { class: "deliveries" }, post.deliveries.map((d) => h("li", {}, `${context.channel(d.channel_id)?.name || d.channel_id}: `,
        badge(d.status), d.remote_url ? [" ", h("a", { href: d.remote_url, target: "_blank", rel: "noopener" }, "open")] : "",
        d.last_error ? h("span", { class: "error" }, ` ${d.last_error}`) : ""))),
      editable ? h("form", { class: "move", "aria-label": "Move to date", on: { submit: async (event) => {
        event.preventDefault();
        const moved = await move(post.id, date.value, time.value, post.version);
        if (moved) dialog.close();
        else await openPost(post.id); // read again: the current version, what the other person changed
      } } },
      h("h3", {}, "Move to date"),
      h("div", { class: "row" }, h("label", { for: date.id }, "Date"), date, h("label", { for: time.id }, `Time (${tz})`), time,
        h("button", { type: "submit", class: "primary", id: "move-submit" }, "Move"))) : "",
      h("div", { class: "post-review" }, approvalList(post.approval), comments),
      h("div", { class: "actions" }, actions, h("button", { type: "button", on: { click: () => dialog.close() } }, "Close")));
    if (!dialog.open) dialog.showModal();
  }
  // Closing a post opened by its link leaves the calendar's own address (a reload does not open it again).
  dialog.addEventListener("close", () => {
    if (location.hash.startsWith("#/calendar/post/")) history.replaceState(null, "", "#/calendar");
  });

  main.append(
    h("div", { class: "screen-head" }, heading, h("p", { class: "tz-note" }, `Times in ${tz}`)),
    toolbar,
    h("ul", { class: "legend", "aria-label": "Status colours" }, LEGEND.map((s) => h("li", {}, badge(s)))),
    h("p", { class: "hint" }, "Drag a post to another day, or open it to move it to a date with the keyboard."),
    grid, dialog);
  if (opening) {
    // Show the post's own month (or week), then open it.
    try {
      const post = await api.get_posts_post_id({ post_id: opening });
      if (post.publish_at) state.anchor = localDate(post.publish_at, tz);
    } catch { /* openPost says why */ }
  }
  await render(true);
  if (opening) await openPost(opening);
  poll(grid, 3000, () => { if (!dialog.open) render().catch(() => {}); });
}
