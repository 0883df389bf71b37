// The registry browser: places, households, people and vehicles as the server shows them
// (personal data only ever masked; a resident would see only their own household).

import { api } from "./auth.js";
import { h, clear } from "./dom.js";
import { t } from "./i18n.js";
import { attempt } from "./shell.js";

const KINDS = {
  places: ["place_id", "name", "kind", "parent_id", "x", "y"],
  households: ["household_id", "building", "unit", "floor", "room", "address", "occupancy", "area"],
  people: ["person_id", "name", "household_id", "type", "phone_masked", "id_masked", "lease_end", "tags"],
  vehicles: ["plate", "household_id", "list_type", "colour", "parking_space", "valid_until"],
};
const SHOWN = 300;

export class RegistryView {
  constructor() {
    this.kind = "places";
    this.query = "";
    this.cache = {};
    this.table = h("table", { testid: "registry-table" });
    this.count = h("span", { class: "muted" });
    this.tabs = h(
      "div",
      { class: "tabs" },
      Object.keys(KINDS).map((kind) =>
        h("button", { class: "tab", dataset: { kind }, testid: `registry-${kind}`, onclick: () => this.show(kind) }, t(`registry.${kind}`)),
      ),
    );
    this.element = h(
      "section",
      { class: "card" },
      h("h2", {}, t("registry.title")),
      this.tabs,
      h(
        "div",
        { class: "filters" },
        h("input", {
          type: "search",
          placeholder: t("entity.search"),
          testid: "registry-search",
          oninput: (e) => {
            this.query = e.target.value.toLowerCase();
            this.render();
          },
        }),
        this.count,
      ),
      this.table,
    );
  }

  async show(kind) {
    this.kind = kind;
    for (const tab of this.tabs.children) tab.classList.toggle("active", tab.dataset.kind === kind);
    if (!this.cache[kind]) {
      const rows = await attempt(() => api(`/api/shouwang/registry/${kind}`));
      if (!rows) return;
      this.cache[kind] = rows;
    }
    this.render();
  }

  render() {
    const rows = this.cache[this.kind] || [];
    const columns = KINDS[this.kind].filter((column) => rows.some((row) => column in row));
    const matching = rows.filter(
      (row) => !this.query || JSON.stringify(row).toLowerCase().includes(this.query),
    );
    this.count.textContent = t("registry.count", { shown: Math.min(matching.length, SHOWN), total: matching.length });
    const cell = (value) => (Array.isArray(value) ? value.join(", ") : value ?? "");
    clear(
      this.table,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, t(`field.${c}`))))),
      h(
        "tbody",
        {},
        matching.slice(0, SHOWN).map((row) => h("tr", {}, columns.map((c) => h("td", {}, cell(row[c]))))),
      ),
    );
  }
}
