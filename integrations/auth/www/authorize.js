// /auth/authorize: the page Home Assistant apps open to sign a user in. Runs the login flow
// (/auth/login_flow) and sends the browser back to the app's redirect_uri with ?code=&state=;
// the app then trades the code for tokens at /auth/token. The server checks redirect_uri.
const TEXT = {
  zh: {
    title: "守望 · 登录", username: "用户名", password: "密码", submit: "登录",
    client: "登录到", invalid_auth: "用户名或密码错误", too_many_attempts: "尝试次数过多，请稍后再试",
    bad_request: "登录请求无效", network: "无法连接到服务器",
  },
  en: {
    title: "Shouwang · Sign in", username: "Username", password: "Password", submit: "Sign in",
    client: "Signing in to", invalid_auth: "Wrong username or password",
    too_many_attempts: "Too many attempts; try again later", bad_request: "Invalid sign-in request",
    network: "Cannot reach the server",
  },
};
const text = navigator.language.toLowerCase().startsWith("zh") ? TEXT.zh : TEXT.en;
document.documentElement.lang = text === TEXT.zh ? "zh-CN" : "en";
for (const element of document.querySelectorAll("[data-text]")) {
  element.textContent = text[element.dataset.text];
}
document.title = text.title;

const params = new URLSearchParams(location.search);
const clientId = params.get("client_id") || "";
const redirectUri = params.get("redirect_uri") || "";
const state = params.get("state");
const form = document.getElementById("login");
const error = document.getElementById("error");
const button = document.getElementById("submit");
document.getElementById("client").textContent = `${text.client} ${clientId}`;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

let flowId = null;

async function startFlow() {
  const { status, body } = await post("/auth/login_flow", {
    client_id: clientId, handler: ["homeassistant", null], redirect_uri: redirectUri,
  });
  if (status !== 200) {
    error.textContent = `${text.bad_request}: ${body.message || status}`;
    button.disabled = true;
    return;
  }
  flowId = body.flow_id;
}

function redirectWith(code) {
  const target = new URL(redirectUri);
  target.searchParams.set("code", code);
  if (state !== null) target.searchParams.set("state", state);
  location.assign(target.toString());
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  button.disabled = true;
  try {
    if (flowId === null) await startFlow();
    if (flowId === null) return;
    const { status, body } = await post(`/auth/login_flow/${encodeURIComponent(flowId)}`, {
      client_id: clientId,
      username: form.username.value,
      password: form.password.value,
    });
    if (body.type === "create_entry") {
      redirectWith(body.result);
      return;
    }
    if (body.type === "abort" || status === 404) flowId = null;
    const reason = (body.errors && body.errors.base) || body.reason || "bad_request";
    error.textContent = text[reason] || reason;
    button.disabled = false;
  } catch (err) {
    error.textContent = text.network;
    button.disabled = false;
  }
});

startFlow().catch(() => { error.textContent = text.network; });
