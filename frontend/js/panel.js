// The household panel (/panel), phone-sized first: the door station ringing this household
// (answer / unlock / decline), the household's own doors and alarm, visitor passes with their
// QR code, and notifications pushed over the WebSocket. The server sends a resident only
// their household's states and events, so everything shown here is theirs.

import { api } from "./auth.js";
import { ConnectionScope, connect } from "./connection.js";
import { h, clear } from "./dom.js";
import { EntityTable, alarmCards } from "./entities.js";
import { EventFeed, FEED_TYPES, describe } from "./feed.js";
import { initI18n, onLanguageChange, t } from "./i18n.js";
import { RingingCard } from "./intercom.js";
import { PassesView } from "./passes.js";
import { header, signIn, toast } from "./shell.js";

const TABS = ["home", "passes", "notifications"];

class Panel {
  constructor(root, user) {
    this.root = root;
    this.user = user;
    this.households = user.households || [];
    this.connection = connect();
    this.events = [];
    this.unread = 0;
    this.ringing = new RingingCard(this.connection);
    for (const type of FEED_TYPES) this.connection.subscribe(type, (event) => this.onEvent(event));
    onLanguageChange(() => this.build());
    window.addEventListener("hashchange", () => this.show());
    this.build();
    this.loadHousehold();
  }

  async loadHousehold() {
    const id = this.households[0];
    if (!id) return;
    try {
      this.household = await api(`/api/shouwang/registry/households/${encodeURIComponent(id)}`);
    } catch {
      this.household = null;
    }
    this.renderTitle();
  }

  renderTitle() {
    if (!this.titleBox) return;
    const address = this.household?.address || this.households.join(", ");
    clear(this.titleBox, h("strong", { testid: "household-name" }, address || t("panel.no_household")));
  }

  build() {
    this.scope?.dispose();
    this.scope = new ConnectionScope(this.connection);
    this.ringing.render();
    this.titleBox = h("div", { class: "household-title" });
    this.renderTitle();
    this.feed = new EventFeed({ testid: "notifications" });
    this.feed.items = [...this.events];
    this.feed.render();
    const doors = new EntityTable(this.scope, {
      domains: ["lock", "gate", "switch", "siren", "light"],
      testid: "my-doors",
      filter: false,
    });
    doors.render();
    this.passes = new PassesView({ households: this.households });
    this.passes.refresh();
    this.badge = h("span", { class: "badge hidden", testid: "unread" });
    this.tabs = {
      home: h(
        "div",
        {},
        this.ringing.element,
        h("section", { class: "card" }, h("h2", {}, t("panel.doors")), doors.element),
        h("section", { class: "card" }, h("h2", {}, t("panel.alarm")), alarmCards(this.scope, { testid: "my-alarm" })),
      ),
      passes: this.passes.element,
      notifications: h("section", { class: "card" }, h("h2", {}, t("panel.notifications")), this.feed.element),
    };
    this.main = h("main", { class: "panel-main" });
    this.nav = h(
      "nav",
      { class: "bottom" },
      TABS.map((name) =>
        h("a", { href: `#${name}`, dataset: { tab: name }, testid: `tab-${name}` }, t(`panel.tab.${name}`), name === "notifications" ? this.badge : null),
      ),
    );
    clear(this.root, header("panel.title", this.user, this.scope), this.titleBox, this.main, this.nav);
    this.root.classList.add("panel");
    this.show();
  }

  show() {
    const name = TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "home";
    for (const link of this.nav.children) link.classList.toggle("active", link.dataset.tab === name);
    clear(this.main, this.tabs[name]);
    this.root.dataset.tab = name;
    if (name === "notifications") {
      this.unread = 0;
      this.badge.classList.add("hidden");
    }
  }

  onEvent(event) {
    this.events.unshift(event);
    this.events.length = Math.min(this.events.length, 100);
    this.feed.add(event);
    if (this.root.dataset.tab !== "notifications") {
      this.unread += 1;
      this.badge.textContent = String(this.unread);
      this.badge.classList.remove("hidden");
    }
    if (event.event_type === "intercom_call" && event.data?.phase === "ringing") {
      if (location.hash !== "#home" && location.hash !== "") location.hash = "#home";
      return;
    }
    toast(describe(event).title);
  }
}

async function main() {
  const root = document.getElementById("app");
  await initI18n();
  const user = await signIn(root, "panel.title");
  window.shouwangPanel = new Panel(root, user);
}

main();
