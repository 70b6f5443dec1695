// The console's shell: sign-in, the workspace (its name and time zone always shown), the screens by URL hash.
import * as api from "./api.js";
import { loadFeatures } from "./features.js";
import { session, setApiBase, apiUrl } from "./http.js";
import { h, clear, say, errorText } from "./ui.js";
import { signInScreen } from "./screens/signin.js";
import { calendarScreen } from "./screens/calendar.js";
import { composerScreen } from "./screens/composer.js";
import { inboxScreen } from "./screens/inbox.js";
import { channelsScreen, finishConnect, channelBanners } from "./screens/channels.js";
import { reportsScreen } from "./screens/reports.js";
import { reviewScreen } from "./screens/review.js";

const SCREENS = { calendar: calendarScreen, compose: composerScreen, inbox: inboxScreen,
  channels: channelsScreen, reports: reportsScreen };
const TITLES = { calendar: "Calendar", compose: "Compose", inbox: "Inbox", channels: "Channels", reports: "Reports" };

export const context = {
  workspace: null,
  channels: [],
  async loadChannels() {
    const page = await api.get_channels({ limit: 100 });
    context.channels = page.items;
    channelBanners(context);
    return context.channels;
  },
  channel(id) { return context.channels.find((c) => c.id === id); },
  go(hash) { if (location.hash === hash) route(); else location.hash = hash; },
};

async function configure() {
  try {
    const answer = await fetch("/console/config.json");
    if (answer.ok) setApiBase((await answer.json()).api_url);
  } catch { /* served by the local stack: the API is on the same origin */ }
}

async function loadWorkspace() {
  context.workspace = await api.get_workspace();
  document.getElementById("workspace-name").textContent = context.workspace.name;
  document.getElementById("workspace-tz").textContent = `Time zone: ${context.workspace.timezone}`;
  await context.loadChannels();
}

async function workspacePicker() {
  const slot = clear(document.getElementById("workspace-pick-slot"));
  if (!api.available("get_me")) return;
  let me;
  try { me = await api.get_me(); } catch { return; }
  const workspaces = me.workspaces || [];
  const ids = workspaces.map((w) => w.id || w.workspace_id);
  // A person in several workspaces must name one (X-Herald-Workspace): the last chosen, else the first.
  if (ids.length && !ids.includes(session.workspace)) session.workspace = ids[0];
  if (workspaces.length < 2) return;
  const select = h("select", { id: "workspace-pick", on: { change: () => { session.workspace = select.value; start(); } } },
    workspaces.map((w) => h("option", { value: w.id || w.workspace_id, selected: (w.id || w.workspace_id) === session.workspace },
      w.name || w.id || w.workspace_id)));
  slot.append(h("label", { for: "workspace-pick", class: "visually-hidden" }, "Workspace"), select);
}

function showShell(signedIn) {
  document.getElementById("shell").hidden = !signedIn;
  if (!signedIn) clear(document.getElementById("banners"));
}

async function route() {
  const main = clear(document.getElementById("main"));
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  if (name === "review") { showShell(false); await reviewScreen(main, rest.join("/")); return; }
  if (!session.token) { showShell(false); signInScreen(main, start); return; }
  const screen = SCREENS[name] ? name : "calendar";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.screen === screen) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  document.title = `${TITLES[screen]} · Herald`;
  try {
    await SCREENS[screen](main, context, rest);
  } catch (error) {
    main.append(h("p", { class: "error", role: "alert" }, errorText(error)));
  }
}

async function start() {
  showShell(false);
  if (!session.token) { await route(); return; }
  try {
    await workspacePicker();
    await loadWorkspace();
  } catch (error) {
    if (error.status === 401) { session.signOut(); say("That key or session is no longer valid: sign in again.", "error"); }
    else say(errorText(error), "error");
    await route();
    return;
  }
  showShell(true);
  if (await finishConnect(context)) return;
  await route();
  document.getElementById("main").focus({ preventScroll: true });
}

window.addEventListener("hashchange", () => {
  // Back from the reviewer's page (shown without the shell) to a screen: load the workspace again first.
  const leavingReview = document.getElementById("shell").hidden && session.token && !location.hash.startsWith("#/review");
  (leavingReview ? start() : route()).then(() => document.getElementById("main").focus({ preventScroll: true }));
});
window.addEventListener("herald:signed-out", () => { session.signOut(); start(); });

// Sign out: a person's access token (a JWT, from POST /auth/sign-in) is ended at the API first, so that a copy
// of it stops working too; an API key stays valid (revoke it with DELETE /api-keys/{id}). Then this tab forgets.
async function signOut() {
  const token = session.token;
  if (token && token.split(".").length === 3 && api.available("post_auth_sign_out")) {
    try {
      await api.post_auth_sign_out({}, undefined, { trying: true });
    } catch (error) {
      if (error.status !== 401) say(`Signed out here, but the API could not end the session: ${errorText(error)}`, "error");
    }
  }
  session.signOut();
  if (location.hash === "#/calendar") await start(); else location.hash = "#/calendar";
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("sign-out").addEventListener("click", signOut);
  await configure();
  try {
    await loadFeatures(apiUrl(""));
  } catch (error) {
    document.getElementById("main").replaceChildren(h("p", { class: "error", role: "alert" },
      `The API did not answer: ${error.message}`));
    return;
  }
  await start();
});
