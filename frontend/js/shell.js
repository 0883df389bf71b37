// What both apps share around their content: the login screen, the header (title, connection
// status, language switch, user, sign out) and toasts.

import { AuthError, api, hasSession, login, logout } from "./auth.js";
import { h, clear } from "./dom.js";
import { LANGUAGES, language, onLanguageChange, setLanguage, t } from "./i18n.js";

export function languageSwitch() {
  return h(
    "select",
    {
      class: "lang",
      testid: "language",
      "aria-label": "Language / 语言",
      onchange: (e) => setLanguage(e.target.value),
    },
    Object.entries(LANGUAGES).map(([code, name]) =>
      h("option", { value: code, selected: code === language() }, name),
    ),
  );
}

/** Show the login form in `root` until the user signs in; resolves with the current user. */
export async function signIn(root, titleKey) {
  if (hasSession()) {
    try {
      return await api("/api/auth/current_user");
    } catch {
      await logout();
    }
  }
  let stop = () => {};
  return new Promise((done) => {
    const resolve = (user) => {
      stop();
      done(user);
    };
    const render = () => {
      const error = h("p", { class: "error", role: "alert", testid: "login-error" });
      const username = h("input", {
        name: "username",
        autocomplete: "username",
        required: true,
        testid: "login-username",
      });
      const password = h("input", {
        name: "password",
        type: "password",
        autocomplete: "current-password",
        required: true,
        testid: "login-password",
      });
      const submit = h("button", { type: "submit", testid: "login-submit" }, t("login.submit"));
      const form = h(
        "form",
        {
          class: "login card",
          onsubmit: async (event) => {
            event.preventDefault();
            submit.disabled = true;
            error.textContent = "";
            try {
              await login(username.value, password.value);
              resolve(await api("/api/auth/current_user"));
            } catch (err) {
              error.textContent = t(err instanceof AuthError ? err.message : "login.failed");
              submit.disabled = false;
            }
          },
        },
        h("div", { class: "login-head" }, h("h1", {}, t(titleKey)), languageSwitch()),
        h("label", {}, t("login.username"), username),
        h("label", {}, t("login.password"), password),
        error,
        submit,
      );
      clear(root, h("main", { class: "login-page" }, form));
      username.focus();
    };
    render();
    stop = onLanguageChange(render);
  });
}

export function header(titleKey, user, connection) {
  const status = h("span", { class: "status", testid: "connection-status" });
  connection.onStatus((value) => {
    status.textContent = t(`status.${value}`);
    status.dataset.status = value;
  });
  return h(
    "header",
    { class: "top" },
    h("h1", {}, t(titleKey)),
    status,
    h("span", { class: "spacer" }),
    languageSwitch(),
    h("span", { class: "user", testid: "user-name" }, `${user.name} · ${t(`role.${user.role}`)}`),
    h(
      "button",
      {
        class: "link",
        testid: "logout",
        onclick: async () => {
          connection.close();
          await logout();
          location.reload();
        },
      },
      t("logout"),
    ),
  );
}

let toastBox = null;

/** A short message at the bottom of the screen (errors in red). */
export function toast(text, kind = "info") {
  if (!toastBox) {
    toastBox = h("div", { class: "toasts", "aria-live": "polite" });
    document.body.append(toastBox);
  }
  const item = h("div", { class: `toast ${kind}`, testid: "toast" }, text);
  toastBox.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

/** Run an action, toasting the server's message if it fails. */
export async function attempt(action, doneKey) {
  try {
    const result = await action();
    if (doneKey) toast(t(doneKey));
    return result;
  } catch (err) {
    toast(err.message || String(err), "error");
    return undefined;
  }
}
