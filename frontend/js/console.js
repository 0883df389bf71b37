// The staff console (/console): live feed with snapshots, site plan with alarms popping up,
// alarm panels, entities with controls, automations (editor, traces), registry, visitor
// passes and the intercom call log. For property staff, guards and admins; residents are
// sent to their household panel.

import { api } from "./auth.js";
import { AutomationsView } from "./automations.js";
import { ConnectionScope, connect } from "./connection.js";
import { h, clear } from "./dom.js";
import { enrollForm } from "./enroll.js";
import { EntityTable, alarmCards } from "./entities.js";
import { ALARM_TYPES, EventFeed, FEED_TYPES, describe } from "./feed.js";
import { initI18n, onLanguageChange, t } from "./i18n.js";
import { CallsView } from "./intercom.js";
import { PassesView } from "./passes.js";
import { RegistryView } from "./registry.js";
import { header, signIn, toast } from "./shell.js";
import { SitePlan } from "./siteplan.js";
import { snapshot } from "./snapshot.js";

const SECTIONS = ["overview", "entities", "automations", "registry", "passes", "calls"];

class Console {
  constructor(root, user) {
    this.root = root;
    this.user = user;
    this.connection = connect();
    this.events = [];
    this.places = [];
    this.build();
    for (const type of FEED_TYPES) this.connection.subscribe(type, (event) => this.onEvent(event));
    this.connection.onStates(() => this.scheduleDevices());
    onLanguageChange(() => this.build());
    window.addEventListener("hashchange", () => this.show());
    this.loadPlaces();
  }

  async loadPlaces() {
    try {
      this.places = await api("/api/shouwang/registry/places");
    } catch {
      this.places = [];
    }
    this.plan.setPlaces(this.places);
    this.scheduleDevices();
    this.feed.render();
  }

  scheduleDevices() {
    if (this._devicesPending) return;
    this._devicesPending = true;
    requestAnimationFrame(() => {
      this._devicesPending = false;
      this.plan.setDevices([...this.connection.states.values()]);
    });
  }

  build() {
    // listeners of the previous rendering go with it
    this.scope?.dispose();
    this.scope = new ConnectionScope(this.connection);
    this.plan = new SitePlan({ onAlarm: (event) => this.select(event) });
    this.plan.setPlaces(this.places);
    this.feed = new EventFeed({
      placeName: (id) => this.plan.placeName(id),
      entityName: (id) => this.entityName(id),
      onSelect: (event) => this.select(event),
    });
    this.feed.items = [...this.events];
    this.feed.render();
    this.detail = h("section", { class: "card detail", testid: "event-detail" }, h("p", { class: "muted" }, t("feed.pick")));
    this.views = {};
    this.main = h("main", { class: "console-main" });
    this.nav = h(
      "nav",
      { class: "side" },
      SECTIONS.map((name) => h("a", { href: `#${name}`, dataset: { section: name }, testid: `nav-${name}` }, t(`nav.${name}`))),
    );
    clear(
      this.root,
      header("console.title", this.user, this.scope),
      h("div", { class: "console" }, this.nav, this.main),
    );
    this.show();
    this.scheduleDevices();
  }

  view(name) {
    if (this.views[name]) return this.views[name];
    let element;
    switch (name) {
      case "overview":
        element = h(
          "div",
          { class: "overview" },
          h("section", { class: "card plan-card" }, h("h2", {}, t("plan.title")), this.plan.element),
          h("section", { class: "card feed-card" }, h("h2", {}, t("feed.title")), this.feed.element),
          this.detail,
          h("section", { class: "card" }, h("h2", {}, t("alarm.title")), alarmCards(this.scope)),
        );
        break;
      case "entities": {
        const table = new EntityTable(this.scope);
        table.render();
        element = h("section", { class: "card" }, h("h2", {}, t("nav.entities")), table.element);
        break;
      }
      case "automations": {
        const automations = new AutomationsView(this.scope, this.user);
        automations.start();
        element = automations.element;
        break;
      }
      case "registry": {
        const registry = new RegistryView();
        registry.show("places");
        element = registry.element;
        break;
      }
      case "passes": {
        const passes = new PassesView();
        passes.refresh();
        passes.suggest();
        element = passes.element;
        break;
      }
      case "calls": {
        const calls = new CallsView(this.scope, this.user);
        calls.refresh();
        element = calls.element;
        break;
      }
      default:
        element = h("p", {}, name);
    }
    element.dataset.section = name;
    this.views[name] = element;
    return element;
  }

  show() {
    const name = SECTIONS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "overview";
    for (const link of this.nav.children) link.classList.toggle("active", link.dataset.section === name);
    clear(this.main, this.view(name));
    this.root.dataset.section = name;
  }

  onEvent(event) {
    this.events.unshift(event);
    this.events.length = Math.min(this.events.length, 200);
    this.feed.add(event);
    if (ALARM_TYPES.has(event.event_type)) {
      this.plan.alarm(event);
      toast(describe(event, (id) => this.plan.placeName(id)).title, "error");
    }
  }

  entityName(entityId) {
    return this.connection.states.get(entityId)?.attributes?.friendly_name || entityId;
  }

  select(event) {
    const { title, detail } = describe(event, (id) => this.plan.placeName(id), (id) => this.entityName(id));
    clear(
      this.detail,
      h("h2", {}, title),
      detail ? h("p", {}, detail) : null,
      snapshot(event.data, { className: "snapshot large" }),
      enrollForm(event, this.user),
      h("details", {}, h("summary", {}, t("feed.raw")), h("pre", {}, JSON.stringify(event.data, null, 2))),
    );
  }
}

async function main() {
  const root = document.getElementById("app");
  await initI18n();
  const user = await signIn(root, "console.title");
  if (user.role === "resident") {
    clear(
      root,
      h(
        "main",
        { class: "login-page" },
        h("div", { class: "card login" }, h("p", { testid: "resident-redirect" }, t("console.residents")), h("a", { href: "/panel" }, t("panel.title"))),
      ),
    );
    return;
  }
  window.shouwangConsole = new Console(root, user);
}

main();
