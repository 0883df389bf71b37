// Entities with their controls: locks, gates, switches, sirens, lights, alarm panels. The
// buttons call services through the API; the server decides whether this user may.

import { callService } from "./auth.js";
import { h, clear } from "./dom.js";
import { t } from "./i18n.js";
import { attempt } from "./shell.js";

export const CONTROLLED = ["lock", "gate", "switch", "siren", "light", "alarm_control_panel"];

function name(state) {
  return state.attributes?.friendly_name || state.entity_id;
}

function button(label, domain, service, entityId, testid) {
  return h(
    "button",
    {
      class: "small",
      testid,
      onclick: () =>
        attempt(() => callService(domain, service, { entity_id: entityId }), "done.sent"),
    },
    label,
  );
}

/** The control buttons for one entity (none for read-only domains). */
export function controls(state) {
  const id = state.entity_id;
  const domain = id.split(".")[0];
  switch (domain) {
    case "lock":
      return state.state === "locked"
        ? [button(t("action.unlock"), "lock", "unlock", id, "unlock")]
        : [button(t("action.lock"), "lock", "lock", id, "lock")];
    case "gate":
      return state.state === "open"
        ? [button(t("action.close"), "gate", "close", id, "close")]
        : [button(t("action.open"), "gate", "open", id, "open")];
    case "switch":
    case "siren":
    case "light":
      return state.state === "on"
        ? [button(t("action.turn_off"), domain, "turn_off", id, "turn-off")]
        : [button(t("action.turn_on"), domain, "turn_on", id, "turn-on")];
    case "alarm_control_panel":
      return alarmButtons(state);
    default:
      return [];
  }
}

function alarmButtons(state) {
  const id = state.entity_id;
  const d = "alarm_control_panel";
  if (state.state === "disarmed") {
    return [
      button(t("alarm.arm_home"), d, "alarm_arm_home", id, "arm-home"),
      button(t("alarm.arm_away"), d, "alarm_arm_away", id, "arm-away"),
    ];
  }
  return [button(t("alarm.disarm"), d, "alarm_disarm", id, "disarm")];
}

export function stateText(state) {
  const key = `state.${state.entity_id.split(".")[0]}.${state.state}`;
  const text = t(key);
  return text === key ? t(`state.${state.state}`) : text;
}

function stateLabel(state) {
  const text = stateText(state);
  return text.startsWith("state.") ? state.state : text;
}

/** An entity table: filter by text and domain, controls on each row. */
export class EntityTable {
  constructor(connection, { domains = null, testid = "entity-table", filter = true } = {}) {
    this.connection = connection;
    this.domains = domains;
    this.query = "";
    this.domain = "";
    this.body = h("tbody");
    this.element = h(
      "div",
      { class: "entity-table" },
      filter ? this._filters() : null,
      h(
        "table",
        { testid },
        h("thead", {}, h("tr", {}, h("th", {}, t("entity.name")), h("th", {}, t("entity.state")), h("th", {}, ""))),
        this.body,
      ),
    );
    connection.onStates(() => this.schedule());
  }

  /** at most one render per frame, however many states change */
  schedule() {
    if (this._pending) return;
    this._pending = true;
    requestAnimationFrame(() => {
      this._pending = false;
      this.render();
    });
  }

  _filters() {
    return h(
      "div",
      { class: "filters" },
      h("input", {
        type: "search",
        placeholder: t("entity.search"),
        testid: "entity-search",
        oninput: (e) => {
          this.query = e.target.value.toLowerCase();
          this.render();
        },
      }),
      h(
        "select",
        {
          testid: "entity-domain",
          onchange: (e) => {
            this.domain = e.target.value;
            this.render();
          },
        },
        h("option", { value: "" }, t("entity.all_domains")),
        [...CONTROLLED, "camera", "binary_sensor", "sensor", "intercom", "automation"].map((d) =>
          h("option", { value: d }, t(`domain.${d}`)),
        ),
      ),
    );
  }

  rows() {
    return [...this.connection.states.values()]
      .filter((state) => {
        const domain = state.entity_id.split(".")[0];
        if (this.domains && !this.domains.includes(domain)) return false;
        if (this.domain && domain !== this.domain) return false;
        if (this.query && !`${state.entity_id} ${name(state)}`.toLowerCase().includes(this.query))
          return false;
        return true;
      })
      .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
  }

  render() {
    const rows = this.rows().slice(0, 500);
    clear(
      this.body,
      rows.map((state) =>
        h(
          "tr",
          { dataset: { entity: state.entity_id } },
          h("td", {}, h("div", {}, name(state)), h("small", { class: "muted" }, state.entity_id)),
          h("td", { class: `state state-${state.state}` }, stateLabel(state)),
          h("td", { class: "controls" }, controls(state)),
        ),
      ),
    );
    if (!rows.length) this.body.append(h("tr", {}, h("td", { colspan: 3, class: "muted" }, t("entity.none"))));
  }
}

/** Cards for alarm panels (console overview, household panel). */
export function alarmCards(connection, { testid = "alarm-panels" } = {}) {
  const box = h("div", { class: "cards", testid });
  const render = () => {
    const panels = [...connection.states.values()].filter((s) =>
      s.entity_id.startsWith("alarm_control_panel."),
    );
    clear(
      box,
      panels.map((state) =>
        h(
          "div",
          { class: `card alarm-card state-${state.state}`, dataset: { entity: state.entity_id } },
          h("strong", {}, name(state)),
          h("div", { class: "big-state" }, stateLabel(state)),
          h("div", { class: "controls" }, controls(state)),
        ),
      ),
    );
    if (!panels.length) box.append(h("p", { class: "muted" }, t("alarm.none")));
  };
  connection.onStates(render);
  render();
  return box;
}
