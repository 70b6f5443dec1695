// The inbox: conversations with filters, a thread, replies (typed or saved, with their placeholders), assign,
// tag, close; new messages appear by polling.
import * as api from "../api.js";
import { h, clear, field, say, errorText, poll, uid } from "../ui.js";
import { localDate, localTime } from "../time.js";

const filters = { status: "open", kind: "", channel_id: "", assignee: "", tag: "" };

export async function inboxScreen(main, context, args) {
  const tz = context.workspace.timezone;
  let openId = args[0] || null;
  let savedReplies = [];
  const list = h("ul", { class: "conversations", id: "conversation-list", "aria-label": "Conversations" });
  const thread = h("section", { class: "thread-view", id: "thread", "aria-label": "Conversation", tabindex: "-1" });
  let lastList = "";
  let lastThread = "";

  const select = (name, label, options) => {
    const control = h("select", { id: `filter-${name}`, on: { change: () => { filters[name] = control.value; refresh(true); } } },
      options.map(([value, text]) => h("option", { value, selected: filters[name] === value }, text)));
    return field(label, control);
  };
  const text = (name, label) => {
    const control = h("input", { type: "search", id: `filter-${name}`, value: filters[name],
      on: { change: () => { filters[name] = control.value.trim(); refresh(true); } } });
    return field(label, control);
  };
  const filterBar = h("form", { class: "filters", "aria-label": "Filters", on: { submit: (e) => e.preventDefault() } },
    select("status", "Status", [["open", "Open"], ["pending", "Pending"], ["closed", "Closed"], ["", "Any"]]),
    select("kind", "Kind", [["", "Any"], ["comment", "Comments"], ["message", "Messages"], ["mention", "Mentions"]]),
    select("channel_id", "Channel", [["", "Any"], ...context.channels.map((c) => [c.id, c.name])]),
    text("assignee", "Assignee"), text("tag", "Tag"));

  function when(instant) { return instant ? `${localDate(instant, tz)} ${localTime(instant, tz)}` : ""; }

  async function refresh(force = false) {
    const query = { limit: 50 };
    for (const [name, value] of Object.entries(filters)) if (value) query[name] = value;
    const page = await api.get_inbox_conversations(query);
    const shown = JSON.stringify(page.items.map((c) => [c.id, c.updated_at, c.last_message_at, c.status]));
    if (force || shown !== lastList) {
      lastList = shown;
      clear(list);
      if (!page.items.length) list.append(h("li", { class: "empty" }, "Nothing here. New comments and messages appear by themselves."));
      for (const c of page.items) {
        list.append(h("li", {}, h("button", { type: "button", class: "conversation", "aria-current": c.id === openId ? "true" : null,
          dataset: { conversationId: c.id }, on: { click: () => { openId = c.id; history.replaceState(null, "", `#/inbox/${c.id}`); refresh(true); } } },
        h("strong", {}, c.participant?.name || c.participant?.handle || "Someone"), " ",
        h("span", { class: "kind" }, c.kind), " ", h("span", { class: "hint" }, context.channel(c.channel_id)?.name || c.network),
        h("span", { class: "preview-line" }, c.last_message_preview),
        h("span", { class: "hint" }, when(c.last_message_at), c.assignee ? ` · ${c.assignee}` : "", c.tags.length ? ` · ${c.tags.join(", ")}` : ""))));
      }
    }
    if (openId) await showThread(force);
  }

  async function showThread(force) {
    const detail = await api.get_inbox_conversations_conversation_id({ conversation_id: openId });
    const shown = JSON.stringify([detail.conversation, detail.messages.map((m) => [m.id, m.delivery_status, m.text])]);
    if (!force && shown === lastThread) return;
    lastThread = shown;
    const { conversation } = detail;
    const keepFocus = thread.contains(document.activeElement) ? document.activeElement.id : null;
    const keepText = thread.querySelector("#reply-text")?.value || "";
    clear(thread);
    const reply = h("textarea", { id: "reply-text", rows: 3, value: keepText });
    const saved = h("select", { id: "saved-reply", on: { change: () => renderVariables() } },
      h("option", { value: "" }, "Type a reply"), savedReplies.map((r) => h("option", { value: r.id }, r.name)));
    const variables = h("div", { class: "variables" });
    function renderVariables() {
      clear(variables);
      const chosen = savedReplies.find((r) => r.id === saved.value);
      reply.disabled = Boolean(chosen);
      if (chosen) reply.value = chosen.text;
      for (const name of chosen?.placeholders || []) {
        variables.append(field(`{${name}}`, h("input", { type: "text", id: uid("var"), dataset: { variable: name } })));
      }
    }
    const assignee = h("input", { type: "text", id: "assignee", value: conversation.assignee || "" });
    const tags = h("input", { type: "text", id: "tags", value: conversation.tags.join(", ") });
    const patch = async (changes, done) => {
      try {
        await api.patch_inbox_conversations_conversation_id({ conversation_id: conversation.id }, changes);
        say(done);
        await refresh(true);
      } catch (error) { say(errorText(error), "error"); }
    };
    thread.append(
      h("h2", {}, conversation.participant?.name || "Conversation", " ",
        h("span", { class: "hint" }, `${conversation.kind} on ${context.channel(conversation.channel_id)?.name || conversation.network} · ${conversation.status}`)),
      h("ol", { class: "messages", "aria-label": "Messages" }, detail.messages.map((m) => h("li", { class: `message ${m.direction}`,
        dataset: { messageId: m.id } },
      h("p", { class: "meta" }, `${m.author?.name || m.author?.handle || (m.direction === "outbound" ? "You" : "Them")} · ${when(m.occurred_at)}`,
        m.direction === "outbound" && m.delivery_status ? ` · ${m.delivery_status}` : ""),
      h("p", {}, m.deleted ? "(deleted)" : m.text), m.error ? h("p", { class: "error" }, m.error) : ""))),
      h("form", { class: "reply", "aria-label": "Reply", on: { submit: async (event) => {
        event.preventDefault();
        const body = saved.value
          ? { saved_reply_id: saved.value, variables: Object.fromEntries([...variables.querySelectorAll("input")].map((i) => [i.dataset.variable, i.value])) }
          : { text: reply.value };
        try {
          await api.post_inbox_conversations_conversation_id_reply({ conversation_id: conversation.id }, body);
          reply.value = "";
          say("Reply sent.");
          await refresh(true);
        } catch (error) { say(errorText(error), "error"); }
      } } },
      field("Saved reply", saved), variables, field("Reply", reply),
      h("button", { type: "submit", class: "primary", id: "send-reply" }, "Send reply")),
      h("div", { class: "triage" },
        h("form", { on: { submit: (e) => { e.preventDefault(); patch({ assignee: assignee.value.trim() || null }, "Assigned."); } } },
          field("Assign to", assignee), h("button", { type: "submit" }, "Assign")),
        h("form", { on: { submit: (e) => { e.preventDefault();
          patch({ tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean) }, "Tags saved."); } } },
        field("Tags (comma separated)", tags), h("button", { type: "submit" }, "Save tags")),
        h("button", { type: "button", id: "close-conversation", on: { click: () => patch({ status: conversation.status === "closed" ? "open" : "closed" },
          conversation.status === "closed" ? "Reopened." : "Closed.") } }, conversation.status === "closed" ? "Reopen" : "Close")));
    if (keepFocus) thread.querySelector(`#${CSS.escape(keepFocus)}`)?.focus();
  }

  const newSaved = h("details", { class: "saved-replies" }, h("summary", {}, "Saved replies"));
  async function loadSaved() {
    savedReplies = (await api.get_saved_replies({ limit: 100 })).items;
    const name = h("input", { type: "text", id: "saved-name", required: true });
    const body = h("textarea", { id: "saved-text", rows: 2, required: true });
    newSaved.replaceChildren(h("summary", {}, `Saved replies (${savedReplies.length})`),
      h("ul", {}, savedReplies.map((r) => h("li", {}, h("strong", {}, r.name), ` ${r.text}`))),
      h("form", { on: { submit: async (e) => {
        e.preventDefault();
        try { await api.post_saved_replies({}, { name: name.value, text: body.value }); say("Saved reply added."); await loadSaved(); lastThread = ""; await refresh(true); }
        catch (error) { say(errorText(error), "error"); }
      } } }, field("Name", name), field("Text", body, "Placeholders in braces, such as {first_name}, are filled when you reply."),
      h("button", { type: "submit" }, "Add saved reply")));
  }

  main.append(h("div", { class: "screen-head" }, h("h1", {}, "Inbox"), h("p", { class: "tz-note" }, `Times in ${tz}`)),
    filterBar, newSaved, h("div", { class: "inbox" }, list, thread));
  await loadSaved();
  await refresh(true);
  poll(list, 3000, () => refresh().catch(() => {}));
}
