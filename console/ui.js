// Small DOM helpers: h() builds elements, say() speaks a status aloud, errorText() explains an API error.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "on") for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "text") element.textContent = value;
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

// A labelled control: <label for> + the control, wrapped in a div.field.
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid("f");
  const parts = [h("label", { for: control.id }, labelText), control];
  if (hint) {
    const hintId = uid("hint");
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("p", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, ...parts);
}

export function say(message, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = message;
  status.dataset.kind = kind;
  status.classList.add("shown");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => status.classList.remove("shown"), 6000);
}

export function errorText(error) {
  if (error && error.status === 409 && error.code === "version_conflict") {
    return "Changed by someone else: this post was edited since you opened it. It has been reloaded; try again.";
  }
  const details = (error && error.details) || [];
  const named = details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).filter(Boolean);
  const base = (error && error.message) || String(error);
  return named.length ? `${base} (${named.slice(0, 3).join("; ")})` : base;
}

export function clear(element) { while (element.firstChild) element.firstChild.remove(); return element; }

// Calls `tick` every `ms` while `element` is in the page; stops by itself once the screen is gone.
export function poll(element, ms, tick) {
  const timer = setInterval(() => {
    if (!element.isConnected) { clearInterval(timer); return; }
    tick();
  }, ms);
  return () => clearInterval(timer);
}

export const STATUS_LABELS = {
  draft: "Draft", pending_approval: "Pending approval", scheduled: "Scheduled", queued: "Queued",
  publishing: "Publishing", published: "Published", partially_published: "Partly published", failed: "Failed",
  unknown: "Unknown: check the network", canceled: "Canceled", rejected: "Rejected",
};
export const statusLabel = (status) => STATUS_LABELS[status] || status;

export function badge(status) {
  return h("span", { class: `badge status-${status}`, dataset: { status } }, statusLabel(status));
}
