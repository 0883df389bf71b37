// Signing in with Home Assistant's login flow (/auth/login_flow, /auth/token), the tokens kept
// in sessionStorage (gone when the tab closes), access tokens renewed with the refresh token,
// and fetch() for the REST API with the bearer token.

const STORE = "shouwang.auth";
const clientId = () => `${location.origin}/`;

export class AuthError extends Error {}

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
}

function save(tokens) {
  if (tokens) sessionStorage.setItem(STORE, JSON.stringify(tokens));
  else sessionStorage.removeItem(STORE);
}

export function hasSession() {
  return Boolean(saved()?.refresh_token || saved()?.access_token);
}

async function json(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { message: text };
  }
}

/** Username + password through the login flow; stores the tokens. Throws AuthError. */
export async function login(username, password) {
  let response = await fetch("/auth/login_flow", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_id: clientId(),
      handler: ["homeassistant", null],
      redirect_uri: `${location.origin}${location.pathname}`,
    }),
  });
  const flow = await json(response);
  if (!response.ok || flow?.type !== "form") throw new AuthError("login.failed");
  response = await fetch(`/auth/login_flow/${encodeURIComponent(flow.flow_id)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_id: clientId(), username, password }),
  });
  const step = await json(response);
  if (response.status === 429 || step?.type === "abort") throw new AuthError("login.locked");
  if (step?.type !== "create_entry") throw new AuthError("login.invalid");
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: step.result,
    client_id: clientId(),
  });
  response = await fetch("/auth/token", { method: "POST", body });
  const tokens = await json(response);
  if (!response.ok || !tokens?.access_token) throw new AuthError("login.failed");
  save({
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + (tokens.expires_in || 1800) * 1000,
  });
}

let refreshing = null;

async function refresh() {
  const tokens = saved();
  if (!tokens?.refresh_token) throw new AuthError("login.expired");
  const body = new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: tokens.refresh_token,
    client_id: clientId(),
  });
  const response = await fetch("/auth/token", { method: "POST", body });
  const renewed = await json(response);
  if (!response.ok || !renewed?.access_token) {
    save(null);
    throw new AuthError("login.expired");
  }
  save({
    ...tokens,
    access_token: renewed.access_token,
    expires_at: Date.now() + (renewed.expires_in || 1800) * 1000,
  });
}

/** A valid access token, renewed first when it is (about to be) expired or `force`d. */
export async function accessToken(force = false) {
  const tokens = saved();
  if (!tokens) throw new AuthError("login.expired");
  if (force || !tokens.access_token || tokens.expires_at - Date.now() < 60_000) {
    refreshing ??= refresh().finally(() => (refreshing = null));
    await refreshing;
  }
  return saved().access_token;
}

export async function logout() {
  const tokens = saved();
  save(null);
  if (tokens?.refresh_token) {
    const body = new URLSearchParams({ action: "revoke", token: tokens.refresh_token });
    await fetch("/auth/token", { method: "POST", body }).catch(() => {});
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** fetch() against the REST API as the signed-in user; JSON in and out. A 401 renews the
 * access token once and retries. Throws ApiError with the server's message. */
export async function api(path, { method = "GET", body, raw = false } = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await accessToken(attempt > 0);
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && attempt === 0) continue;
    if (raw) {
      if (!response.ok) throw new ApiError(response.status, await json(response));
      return response;
    }
    const data = await json(response);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  throw new ApiError(401, { message: "Unauthorized" });
}

/** Call a service over REST; with `response` the service's response is returned. */
export async function callService(domain, service, data = {}, { response = false } = {}) {
  const query = response ? "?return_response" : "";
  const result = await api(`/api/services/${domain}/${service}${query}`, {
    method: "POST",
    body: data,
  });
  return response ? result.service_response : result;
}
