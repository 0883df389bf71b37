// The WebSocket connection to /api/websocket in Home Assistant's protocol: auth handshake with
// the access token, commands with increasing ids answered by promises, event subscriptions
// that are renewed after every reconnect, and the live entity states (get_states +
// state_changed). Reconnects with backoff; an auth_invalid renews the token once first.

import { AuthError, accessToken } from "./auth.js";

const BACKOFF = [500, 1000, 2000, 5000, 10000];

export class Connection {
  constructor() {
    this.states = new Map();
    this.status = "connecting";
    this._ws = null;
    this._nextId = 1;
    this._pending = new Map();
    this._subscriptions = new Map(); // local key -> {eventType, callback, remoteId}
    this._subscriptionKey = 0;
    this._statusListeners = new Set();
    this._stateListeners = new Set();
    this._attempt = 0;
    this._closed = false;
    this._forceRefresh = false;
  }

  onStatus(listener) {
    this._statusListeners.add(listener);
    listener(this.status);
    return () => this._statusListeners.delete(listener);
  }

  /** listener(entityId, newState|null) after each change, and (null, null) after a reload */
  onStates(listener) {
    this._stateListeners.add(listener);
    return () => this._stateListeners.delete(listener);
  }

  _setStatus(status) {
    this.status = status;
    for (const listener of this._statusListeners) listener(status);
  }

  async connect() {
    this._closed = false;
    let token;
    try {
      token = await accessToken(this._forceRefresh);
    } catch (err) {
      if (err instanceof AuthError) {
        this._setStatus("auth_invalid");
        return;
      }
      this._scheduleReconnect();
      return;
    }
    this._forceRefresh = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/websocket`);
    this._ws = ws;
    this._setStatus("connecting");
    ws.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      for (const item of Array.isArray(data) ? data : [data]) this._handle(ws, item, token);
    };
    ws.onclose = () => {
      if (this._ws !== ws) return;
      this._ws = null;
      for (const { reject } of this._pending.values()) reject(new Error("disconnected"));
      this._pending.clear();
      if (!this._closed && this.status !== "auth_invalid") this._scheduleReconnect();
    };
  }

  close() {
    this._closed = true;
    this._ws?.close();
  }

  _scheduleReconnect() {
    this._setStatus("reconnecting");
    const delay = BACKOFF[Math.min(this._attempt, BACKOFF.length - 1)];
    this._attempt += 1;
    setTimeout(() => !this._closed && this.connect(), delay);
  }

  async _handle(ws, message, token) {
    switch (message.type) {
      case "auth_required":
        ws.send(JSON.stringify({ type: "auth", access_token: token }));
        return;
      case "auth_ok":
        this._attempt = 0;
        await this._ready();
        return;
      case "auth_invalid":
        if (!this._forceRefresh) {
          this._forceRefresh = true; // the token may have just expired: renew once, retry
          ws.onclose = null;
          ws.close();
          this._ws = null;
          this.connect();
        } else {
          this._setStatus("auth_invalid");
          ws.close();
        }
        return;
      case "result":
      case "pong": {
        const pending = this._pending.get(message.id);
        if (!pending) return;
        this._pending.delete(message.id);
        if (message.type === "pong" || message.success) pending.resolve(message.result ?? null);
        else pending.reject(Object.assign(new Error(message.error?.message), message.error));
        return;
      }
      case "event":
        if (message.id === this._stateSubscription) {
          this._stateChanged(message.event);
          return;
        }
        for (const sub of this._subscriptions.values()) {
          if (sub.remoteId === message.id) sub.callback(message.event);
        }
        return;
      default:
    }
  }

  async _ready() {
    this._stateSubscription = null;
    const states = await this.command({ type: "get_states" });
    this.states = new Map(states.map((state) => [state.entity_id, state]));
    for (const listener of this._stateListeners) listener(null, null);
    const subscribed = this.command({ type: "subscribe_events", event_type: "state_changed" });
    this._stateSubscription = this._lastId;
    await subscribed;
    for (const sub of this._subscriptions.values()) await this._subscribeRemote(sub);
    this._setStatus("connected");
  }

  /** Send a command; resolves with its result, rejects with its error. */
  command(message) {
    const ws = this._ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("disconnected"));
    const id = this._nextId++;
    this._lastId = id;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...message, id }));
    });
  }

  async _subscribeRemote(sub) {
    const message = { type: "subscribe_events" };
    if (sub.eventType) message.event_type = sub.eventType;
    const promise = this.command(message);
    sub.remoteId = this._lastId;
    await promise;
  }

  /** callback(event) for events of one type (or every type with null); kept across reconnects. */
  subscribe(eventType, callback) {
    const key = ++this._subscriptionKey;
    const sub = { eventType, callback, remoteId: null };
    this._subscriptions.set(key, sub);
    if (this.status === "connected") this._subscribeRemote(sub).catch(() => {});
    return () => {
      this._subscriptions.delete(key);
      if (sub.remoteId !== null && this.status === "connected") {
        this.command({ type: "unsubscribe_events", subscription: sub.remoteId }).catch(() => {});
      }
    };
  }

  _stateChanged(event) {
    const { entity_id: entityId, new_state: newState } = event.data;
    if (newState) this.states.set(entityId, newState);
    else this.states.delete(entityId);
    for (const listener of this._stateListeners) listener(entityId, newState);
  }
}

/** The connection as one rendering of a view sees it: the same states and commands, but the
 * listeners and subscriptions it adds are removed together by dispose() (when the view is
 * rebuilt, e.g. after a language change). */
export class ConnectionScope {
  constructor(connection) {
    this.connection = connection;
    this._removers = [];
  }

  get states() {
    return this.connection.states;
  }

  get status() {
    return this.connection.status;
  }

  command(message) {
    return this.connection.command(message);
  }

  close() {
    this.connection.close();
  }

  _keep(remove) {
    this._removers.push(remove);
    return remove;
  }

  onStatus(listener) {
    return this._keep(this.connection.onStatus(listener));
  }

  onStates(listener) {
    return this._keep(this.connection.onStates(listener));
  }

  subscribe(eventType, callback) {
    return this._keep(this.connection.subscribe(eventType, callback));
  }

  dispose() {
    for (const remove of this._removers.splice(0)) remove();
  }
}

/** A connection, connecting now. */
export function connect() {
  const connection = new Connection();
  connection.connect();
  return connection;
}
