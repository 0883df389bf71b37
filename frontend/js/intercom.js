// Intercom calls: the console's live calls and call log, and the panel's ringing door
// station (snapshot, answer / unlock / decline, then unlock / hang up). All through the
// intercom.* services; intercom_call events keep the views current.

import { api, callService } from "./auth.js";
import { h, clear, formatTime } from "./dom.js";
import { language, t } from "./i18n.js";
import { attempt } from "./shell.js";
import { snapshot } from "./snapshot.js";

/** who is at the door: the hub serves the call's picture to those the call is about */
function callSnapshot(call, options) {
  const url = `/api/shouwang/panel/calls/${encodeURIComponent(call.call_id)}/snapshot`;
  return snapshot({ snapshot_url: url }, options);
}

const LIVE = new Set(["ringing", "answered"]);

function stationName(connection, entityId) {
  if (!entityId) return t("call.hub");
  return connection.states.get(entityId)?.attributes?.friendly_name || entityId;
}

/** Console: calls in progress and the call log. */
export class CallsView {
  constructor(connection, user) {
    this.connection = connection;
    this.canControl = user.role !== "resident";
    this.live = new Map();
    this.liveBox = h("div", { class: "cards", testid: "live-calls" });
    this.log = h("tbody");
    this.element = h(
      "div",
      {},
      h("section", { class: "card" }, h("h2", {}, t("call.live")), this.liveBox),
      h(
        "section",
        { class: "card" },
        h("div", { class: "toolbar" }, h("h2", {}, t("call.log")), h("button", { onclick: () => this.refresh() }, t("refresh"))),
        h(
          "table",
          { testid: "call-log" },
          h("thead", {}, h("tr", {}, ["started", "caller", "target", "phase", "answered_by", "unlocked_by"].map((k) => h("th", {}, t(`call.${k}`))))),
          this.log,
        ),
      ),
    );
    connection.subscribe("intercom_call", (event) => this.onCall(event.data));
    this.renderLive();
  }

  onCall(call) {
    if (LIVE.has(call.phase)) this.live.set(call.call_id, call);
    else this.live.delete(call.call_id);
    this.renderLive();
    if (!LIVE.has(call.phase)) this.refresh();
  }

  renderLive() {
    clear(
      this.liveBox,
      [...this.live.values()].map((call) =>
        h(
          "div",
          { class: `card call phase-${call.phase}`, testid: "live-call", dataset: { call: call.call_id } },
          callSnapshot(call),
          h("strong", {}, `${stationName(this.connection, call.caller)} → ${call.household || call.target}`),
          h("div", {}, t(`call.phase.${call.phase}`)),
          this.canControl
            ? h(
                "div",
                { class: "controls" },
                call.phase === "ringing"
                  ? h("button", { class: "small", testid: "live-answer", onclick: () => this.act("answer", call) }, t("call.answer"))
                  : null,
                h("button", { class: "small", testid: "live-unlock", onclick: () => this.act("unlock", call) }, t("call.unlock")),
                h("button", { class: "small danger", testid: "live-hangup", onclick: () => this.act("hangup", call) }, t("call.hangup")),
              )
            : null,
        ),
      ),
    );
    if (!this.live.size) this.liveBox.append(h("p", { class: "muted" }, t("call.no_live")));
  }

  act(service, call) {
    return attempt(() => callService("intercom", service, { call_id: call.call_id }), "done.sent");
  }

  async refresh() {
    const response = await attempt(() => callService("intercom", "call_log", { limit: 100 }, { response: true }));
    if (!response) return;
    // calls that were already ringing when the console opened are live too
    let changed = false;
    for (const call of response.calls || []) {
      if (LIVE.has(call.phase) && !this.live.has(call.call_id)) {
        this.live.set(call.call_id, call);
        changed = true;
      }
    }
    if (changed) this.renderLive();
    clear(
      this.log,
      (response.calls || []).map((call) =>
        h(
          "tr",
          { testid: "call-row", dataset: { call: call.call_id, phase: call.phase } },
          h("td", {}, formatTime(call.started, language())),
          h("td", {}, stationName(this.connection, call.caller)),
          h("td", {}, call.household || call.target),
          h("td", {}, t(`call.phase.${call.phase}`), call.end_reason ? h("small", { class: "muted" }, ` (${t(`call.end.${call.end_reason}`)})`) : null),
          h("td", {}, call.answered_by ? stationName(this.connection, call.answered_by) : ""),
          h("td", {}, (call.unlocked_by || []).join(", ")),
        ),
      ),
    );
  }
}

/** Panel: the door station ringing this household, and what can be done about it. */
export class RingingCard {
  constructor(connection) {
    this.connection = connection;
    this.call = null;
    this.element = h("section", { class: "card ringing hidden", testid: "ringing", "aria-live": "assertive" });
    connection.subscribe("intercom_call", (event) => this.onCall(event.data));
  }

  /** this household's station in the call (residents only see their own stations' states) */
  myStation(call) {
    const stations = [...(call.stations || []), call.answered_by].filter(Boolean);
    return stations.find((id) => this.connection.states.has(id)) || null;
  }

  onCall(call) {
    if (LIVE.has(call.phase)) this.call = call;
    else if (this.call?.call_id === call.call_id) this.call = { ...call, ended: true };
    else return;
    this.render();
    this.alert(call.phase === "ringing" && !this.call.ended);
    this.loadCaller(call);
  }

  /** a phone buzzes and the tab's title says so while the door rings */
  alert(ringing) {
    this.baseTitle ??= document.title;
    document.title = ringing ? `🔔 ${t("call.ringing_title")} · ${this.baseTitle}` : this.baseTitle;
    if (ringing) navigator.vibrate?.([400, 200, 400]);
  }

  /** the calling station's name and place (a shared place: not in the resident's states) */
  async loadCaller(call) {
    if (this.callers?.[call.call_id]) return;
    try {
      const details = await api(`/api/shouwang/panel/calls/${encodeURIComponent(call.call_id)}`);
      this.callers = { ...this.callers, [call.call_id]: details };
      if (this.call?.call_id === call.call_id) this.render();
    } catch {
      // the station's entity id stays shown
    }
  }

  callerName(call) {
    const details = this.callers?.[call.call_id];
    if (details?.caller_name) return details.caller_name;
    return stationName(this.connection, call.caller);
  }

  render() {
    const call = this.call;
    this.element.classList.toggle("hidden", !call);
    if (!call) return;
    this.element.dataset.phase = call.ended ? "ended" : call.phase;
    const station = this.myStation(call);
    const act = (service) =>
      attempt(() =>
        callService("intercom", service, { entity_id: station, call_id: call.call_id }),
      );
    const ringing = call.phase === "ringing" && !call.ended;
    const answered = call.phase === "answered" && !call.ended;
    clear(
      this.element,
      h("h2", {}, ringing ? t("call.ringing_title") : answered ? t("call.in_call") : t(`call.phase.${call.phase}`)),
      h("p", { class: "caller", testid: "ringing-caller" }, this.callerName(call)),
      callSnapshot(call, { className: "snapshot large" }),
      call.message ? h("p", {}, call.message) : null,
      h(
        "div",
        { class: "call-buttons" },
        ringing ? h("button", { class: "answer", testid: "call-answer", onclick: () => act("answer") }, t("call.answer")) : null,
        ringing || answered
          ? h(
              "button",
              {
                class: "unlock",
                testid: "call-unlock",
                onclick: async () => {
                  const ok = await act("unlock");
                  if (ok !== undefined) {
                    this.unlockedCall = call.call_id;
                    this.render();
                  }
                },
              },
              t("call.unlock"),
            )
          : null,
        ringing ? h("button", { class: "decline danger", testid: "call-decline", onclick: () => act("decline") }, t("call.decline")) : null,
        answered ? h("button", { class: "danger", testid: "call-hangup", onclick: () => act("hangup") }, t("call.hangup")) : null,
        call.ended ? h("button", { class: "link", onclick: () => { this.call = null; this.render(); } }, t("close")) : null,
      ),
      this.unlockedCall === call.call_id
        ? h("p", { class: "unlocked", testid: "call-unlocked" }, t("call.unlocked"))
        : null,
    );
  }
}
