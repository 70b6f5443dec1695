// Channels: connect a sandbox or, by OAuth, a network; health and expiry banners; reconnect; check; queue slots.
import * as api from "../api.js";
import { h, clear, field, say, errorText, uid } from "../ui.js";
import { localDate } from "../time.js";

const OAUTH_NETWORKS = ["facebook", "instagram", "threads", "linkedin", "x", "youtube", "google_business", "tiktok",
  "pinterest", "reddit"];
const SOON_MS = 7 * 24 * 3600 * 1000;
const CONNECTING = "herald.connect.";

function trouble(channel) {
  const health = channel.health || {};
  if (channel.status === "needs_reauth" || health.status === "needs_reauth") {
    return { level: "error", text: `${channel.name} (${channel.network}) needs to be reconnected${health.problem ? `: ${health.problem}` : "."}` };
  }
  if (health.expires_at && new Date(health.expires_at) - Date.now() < SOON_MS) {
    return { level: "warning", text: `${channel.name}'s access expires on ${health.expires_at.slice(0, 10)}: reconnect it before then.` };
  }
  if (health.status && !["ok", "healthy", "unknown"].includes(health.status)) {
    return { level: "warning", text: `${channel.name}: ${health.problem || health.status}` };
  }
  return null;
}

export function channelBanners(context) {
  const region = clear(document.getElementById("banners"));
  for (const channel of context.channels) {
    const found = trouble(channel);
    if (found) {
      region.append(h("p", { class: `banner ${found.level}`, role: found.level === "error" ? "alert" : null },
        found.text, " ", h("a", { href: "#/channels" }, "Channels")));
    }
  }
}

function redirectUri() { return `${location.origin}/`; }

async function beginConnect(network) {
  const started = await api.post_channels_connect({}, { network, redirect_uri: redirectUri() });
  sessionStorage.setItem(CONNECTING + started.state, network);
  location.assign(started.authorize_url);
}

// Back from the network with ?code&state: read the accounts the grant reached, let the person choose.
export async function finishConnect(context) {
  const query = new URLSearchParams(location.search);
  const state = query.get("state");
  const network = state && sessionStorage.getItem(CONNECTING + state);
  if (!network) return false;
  sessionStorage.removeItem(CONNECTING + state);
  history.replaceState(null, "", `${location.pathname}#/channels`);
  const main = clear(document.getElementById("main"));
  try {
    const callbackQuery = { network, state };
    for (const name of ["code", "error", "error_description"]) if (query.get(name)) callbackQuery[name] = query.get(name);
    const granted = await api.get_oauth_callback_network(callbackQuery, undefined, { anonymous: true });
    const boxes = granted.accounts.map((account) => {
      const box = h("input", { type: "checkbox", id: uid("acct"), value: account.account_id,
        checked: granted.accounts.length === 1 || Boolean(account.already_connected) });
      return h("div", { class: "check" }, box, h("label", { for: box.id },
        `${account.name} (@${account.handle})${account.already_connected ? " · reconnects the existing channel" : ""}`));
    });
    main.append(h("h1", {}, `Connect ${network}`), h("form", { class: "card", on: { submit: async (event) => {
      event.preventDefault();
      const ids = [...event.target.querySelectorAll("input:checked")].map((i) => i.value);
      try {
        await api.post_channels_connect_state_accounts({ state: granted.state }, { account_ids: ids });
        say("Connected.");
        await context.loadChannels();
        context.go("#/channels");
      } catch (error) { say(errorText(error), "error"); }
    } } }, h("fieldset", {}, h("legend", {}, "Accounts to connect"), boxes), h("button", { type: "submit", class: "primary" }, "Connect")));
  } catch (error) {
    main.append(h("h1", {}, `Connect ${network}`), h("p", { class: "error", role: "alert" }, errorText(error)),
      h("a", { href: "#/channels" }, "Back to channels"));
  }
  return true;
}

function queueEditor(channel) {
  const box = h("details", { class: "queue" }, h("summary", {}, "Queue slots"));
  box.addEventListener("toggle", async () => {
    if (!box.open || box.dataset.loaded) return;
    box.dataset.loaded = "1";
    let queue;
    try { queue = await api.get_channels_channel_id_queue({ channel_id: channel.id }); } catch (error) { box.append(h("p", { class: "error" }, errorText(error))); return; }
    // What PUT takes (QueuePut): the weekly slots ({weekday: "monday", time: "09:30"}), paused, and the version read.
    const text = h("textarea", { rows: 4, id: uid("queue"),
      value: JSON.stringify({ slots: queue.slots || [], paused: Boolean(queue.paused), version: queue.version }, null, 1) });
    box.append(h("form", { on: { submit: async (e) => {
      e.preventDefault();
      try { await api.put_channels_channel_id_queue({ channel_id: channel.id }, JSON.parse(text.value)); say("Queue saved."); }
      catch (error) { say(errorText(error), "error"); }
    } } }, field(`Slots of ${channel.name} (as the API takes them)`, text), h("button", { type: "submit" }, "Save slots")));
  });
  return box;
}

function sandboxFan(channel) {
  const text = h("input", { type: "text", id: uid("fan"), value: "Are you open on Sunday?" });
  const kind = h("select", { id: uid("fan-kind") }, h("option", { value: "comment" }, "Comment"), h("option", { value: "message" }, "Direct message"));
  return h("details", { class: "fan" }, h("summary", {}, "Pretend a fan writes"),
    h("form", { dataset: { fanFor: channel.id }, on: { submit: async (e) => {
      e.preventDefault();
      try { await api.post_channels_channel_id_sandbox_messages({ channel_id: channel.id }, { text: text.value, kind: kind.value }); say("Sent: it is in the inbox in a moment."); }
      catch (error) { say(errorText(error), "error"); }
    } } }, field("What they write", text), field("As", kind), h("button", { type: "submit" }, "Send to the inbox")));
}

export async function channelsScreen(main, context) {
  await context.loadChannels();
  const listing = h("ul", { class: "channel-list", id: "channel-list" });
  const render = () => {
    clear(listing);
    if (!context.channels.length) listing.append(h("li", { class: "empty" }, "No channels yet: add a sandbox to try Herald."));
    for (const channel of context.channels) {
      const found = trouble(channel);
      const health = channel.health || {};
      const actions = [];
      if (OAUTH_NETWORKS.includes(channel.network)) {
        actions.push(h("button", { type: "button", on: { click: () => beginConnect(channel.network).catch((e) => say(errorText(e), "error")) } }, `Reconnect ${channel.name}`));
      }
      if (channel.network !== "sandbox") {
        actions.push(h("button", { type: "button", on: { click: async () => {
          try { await api.post_channels_channel_id_check({ channel_id: channel.id }); say(`${channel.name} checked.`); await context.loadChannels(); render(); }
          catch (error) { say(errorText(error), "error"); }
        } } }, `Check ${channel.name}`));
      }
      listing.append(h("li", { class: `channel ${found ? found.level : ""}`, dataset: { channelId: channel.id } },
        h("h3", {}, channel.name, " ", h("span", { class: "hint" }, `${channel.network}${channel.handle ? ` · @${channel.handle}` : ""}`)),
        h("p", {}, h("span", { class: `badge health-${channel.status}` }, channel.status.replace("_", " ")),
          health.checked_at ? ` · checked ${localDate(health.checked_at, context.workspace.timezone)}` : "",
          health.expires_at ? ` · access until ${health.expires_at.slice(0, 10)}` : ""),
        found ? h("p", { class: `banner ${found.level}` }, found.text) : "",
        h("div", { class: "actions" }, actions),
        channel.network === "sandbox" ? sandboxFan(channel) : "",
        api.available("get_channels_channel_id_queue") ? queueEditor(channel) : ""));
    }
  };

  const name = h("input", { type: "text", id: "sandbox-name", value: "Try-out", required: true });
  const handle = h("input", { type: "text", id: "sandbox-handle", value: "" });
  const sandboxForm = h("form", { class: "card", "aria-labelledby": "sandbox-title", on: { submit: async (e) => {
    e.preventDefault();
    const settings = handle.value.trim() ? { handle: handle.value.trim() } : {};
    try {
      await api.post_channels({}, { network: "sandbox", name: name.value.trim(), settings });
      say(`${name.value.trim()} connected.`);
      await context.loadChannels();
      render();
    } catch (error) { say(errorText(error), "error"); }
  } } }, h("h2", { id: "sandbox-title" }, "Add a sandbox channel"),
  h("p", { class: "hint" }, "A built-in network that records what it receives: try Herald without an account anywhere."),
  field("Name", name), field("Handle (optional)", handle), h("button", { type: "submit", class: "primary", id: "add-sandbox" }, "Add sandbox"));

  const network = h("select", { id: "connect-network" }, OAUTH_NETWORKS.map((n) => h("option", { value: n }, n)));
  const connectForm = h("form", { class: "card", "aria-labelledby": "connect-title", on: { submit: async (e) => {
    e.preventDefault();
    try { await beginConnect(network.value); } catch (error) { say(errorText(error), "error"); }
  } } }, h("h2", { id: "connect-title" }, "Connect a network"),
  h("p", { class: "hint" }, "You sign in on the network and choose the accounts; Herald never sees your password."),
  field("Network", network), h("button", { type: "submit" }, "Connect"));

  main.append(h("div", { class: "screen-head" }, h("h1", {}, "Channels")),
    h("div", { class: "cards" }, sandboxForm, connectForm), h("h2", {}, "Connected"), listing);
  render();
}
