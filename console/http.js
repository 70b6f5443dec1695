// Every request the console makes to the API: the bearer token, the chosen workspace, errors in the API's shape.
import { workspaceHeader } from "./features.js";

const KEY = "herald.token";
const WORKSPACE = "herald.workspace";
let apiBase = "";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The API answered ${status}`);
    this.status = status;
    this.code = error.code || "error";
    this.details = error.details || [];
  }
}

export const session = {
  get token() { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY); },
  signIn(token, remember) {
    sessionStorage.setItem(KEY, token);
    if (remember) localStorage.setItem(KEY, token); else localStorage.removeItem(KEY);
  },
  signOut() {
    for (const store of [sessionStorage, localStorage]) { store.removeItem(KEY); store.removeItem(WORKSPACE); }
  },
  get workspace() { return sessionStorage.getItem(WORKSPACE) || localStorage.getItem(WORKSPACE); },
  set workspace(id) {
    sessionStorage.setItem(WORKSPACE, id);
    if (localStorage.getItem(KEY)) localStorage.setItem(WORKSPACE, id);
  },
};

export function setApiBase(url) { apiBase = (url || "").replace(/\/$/, ""); }
export function apiUrl(path) { return apiBase + path; }

export function fillPath(template, params) {
  const rest = { ...params };
  const path = template.replace(/\{([^}]+)\}/g, (_, name) => {
    if (rest[name] === undefined) throw new Error(`${template} needs ${name}`);
    const value = encodeURIComponent(rest[name]);
    delete rest[name];
    return value;
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(rest)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function authHeaders() {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  const header = workspaceHeader();
  if (header && session.workspace) headers[header] = session.workspace;
  return headers;
}

// `as`: "json" (default), "text" or "blob"; `anonymous`: no bearer (the review link, the OAuth callback);
// `trying`: a 401 is the caller's to explain (a key being tried), not a session that ended; `bearer`: this
// credential instead of the session's (the client reviewer's `hrv_...`), errors left to the caller.
export async function request(operation, params = {}, body = undefined, { as = "json", anonymous = false, trying = false, bearer = null } = {}) {
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : anonymous ? {} : authHeaders();
  if (bearer) anonymous = true;
  const init = { method: operation.method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(apiUrl(fillPath(operation.path, params)), init);
  if (!answer.ok) {
    let parsed = null;
    try { parsed = await answer.json(); } catch { parsed = null; }
    const error = new ApiError(answer.status, parsed);
    if (answer.status === 401 && !anonymous && !trying) window.dispatchEvent(new CustomEvent("herald:signed-out"));
    throw error;
  }
  if (answer.status === 204) return null;
  if (as === "text") return answer.text();
  if (as === "blob") return answer.blob();
  return answer.json();
}
