// Sign in: email and password where the API has POST /auth/sign-in; an API key always (machines, the demo).
import * as api from "../api.js";
import { session } from "../http.js";
import { h, field, errorText } from "../ui.js";

function tokenOf(answer) {
  // Herald takes the access token as the bearer (it checks token_use); the ID token is not one.
  return answer.access_token || answer.token || answer.tokens?.access_token;
}

export function signInScreen(main, started) {
  document.title = "Sign in · Herald";
  const problem = h("p", { class: "error", role: "alert", id: "sign-in-problem" });
  const remember = h("input", { type: "checkbox", id: "remember" });
  const panels = [];

  if (api.available("post_auth_sign_in")) {
    const email = h("input", { type: "email", autocomplete: "username", required: true, name: "email" });
    const password = h("input", { type: "password", autocomplete: "current-password", required: true, name: "password" });
    const form = h("form", { class: "card", "aria-labelledby": "password-title", on: { submit: async (event) => {
      event.preventDefault();
      problem.textContent = "";
      try {
        const answer = await api.post_auth_sign_in({}, { email: email.value, password: password.value }, { anonymous: true });
        const token = tokenOf(answer);
        if (!token) throw new Error("The sign-in answer carried no token.");
        session.signIn(token, remember.checked);
        await started();
      } catch (error) { problem.textContent = errorText(error); }
    } } },
    h("h2", { id: "password-title" }, "With your email"),
    field("Email", email), field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
    panels.push(form);
  }

  const key = h("input", { type: "password", id: "api-key", name: "api_key", autocomplete: "off", required: true,
    spellcheck: false });
  const keyForm = h("form", { class: "card", "aria-labelledby": "key-title", on: { submit: async (event) => {
    event.preventDefault();
    problem.textContent = "";
    session.signIn(key.value.trim(), remember.checked);
    try { await api.get_workspace({}, undefined, { trying: true }); } catch (error) {
      session.signOut();
      problem.textContent = error.status === 401 ? "That key was not accepted." : errorText(error);
      return;
    }
    await started();
  } } },
  h("h2", { id: "key-title" }, "With an API key"),
  field("API key", key, "make run writes the demo workspace's key to .local/api-key."),
  h("button", { type: "submit", class: panels.length ? "" : "primary", id: "sign-in-key" }, "Sign in with the key"));
  panels.push(keyForm);

  main.append(h("section", { class: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Herald"),
    h("div", { class: "cards" }, panels),
    h("div", { class: "check" }, remember, h("label", { for: "remember" }, "Stay signed in on this device")),
    problem));
  (panels[0].querySelector("input") || key).focus();
}
