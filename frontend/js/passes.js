// Visitor passes: the form to issue one (the service answers with its token, link and QR code
// as an SVG data URL, shown as an image), and the list with revoke. The console issues for any
// household; the panel only for the resident's own (/api/shouwang/panel/passes enforces both).

import { api } from "./auth.js";

const BASE = "/api/shouwang/panel/passes";
import { h, clear, formatTime } from "./dom.js";
import { language, t } from "./i18n.js";
import { attempt } from "./shell.js";

export class PassesView {
  /** households: the ids the user may pick from (null: free text, staff). Without places the
   * server routes the visitor through the gates and the household's unit entrance. */
  constructor({ households = null } = {}) {
    this.households = households;
    this.result = h("div", { class: "pass-result", testid: "pass-result" });
    this.list = h("tbody");
    const household = households?.length
      ? h("select", { name: "host_household", testid: "pass-household" }, households.map((id) => h("option", { value: id }, id)))
      : h("input", { name: "host_household", required: true, list: "pass-households", testid: "pass-household" });
    const form = h(
      "form",
      {
        class: "pass-form",
        testid: "pass-form",
        onsubmit: (event) => {
          event.preventDefault();
          this.create(new FormData(form));
        },
      },
      h("label", {}, t("pass.visitor"), h("input", { name: "visitor_name", required: true, testid: "pass-visitor" })),
      h("label", {}, t("pass.phone"), h("input", { name: "phone", type: "tel", testid: "pass-phone" })),
      h("label", {}, t("pass.household"), household),
      h("label", {}, t("pass.day_optional"), h("input", { name: "day", type: "date", testid: "pass-day" })),
      h("label", {}, t("pass.plate"), h("input", { name: "plate", testid: "pass-plate" })),
      households?.length
        ? null
        : h("label", {}, t("pass.places"), h("input", { name: "places", placeholder: "P-GATE-N,B01-U1", list: "pass-places", testid: "pass-places" })),
      households?.length ? null : [h("datalist", { id: "pass-households" }), h("datalist", { id: "pass-places" })],
      h("button", { type: "submit", class: "primary", testid: "pass-create" }, t("pass.create")),
    );
    this.element = h(
      "div",
      { class: "passes" },
      h("section", { class: "card" }, h("h2", {}, t("pass.new")), form, this.result),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("pass.list")),
        h(
          "table",
          { testid: "pass-list" },
          h("thead", {}, h("tr", {}, ["visitor", "household", "valid", "status", ""].map((k) => h("th", {}, k ? t(`pass.${k}`) : "")))),
          this.list,
        ),
      ),
    );
  }

  /** staff: suggest the registry's households and gates/doors as they type */
  async suggest() {
    const fill = async (id, path, value, label) => {
      const list = this.element.querySelector(`#${id}`);
      if (!list) return;
      try {
        const rows = await api(path);
        clear(list, rows.map((row) => h("option", { value: value(row) }, label(row))));
      } catch {
        // no registry on this hub: free text it is
      }
    };
    await fill("pass-households", "/api/shouwang/registry/households", (r) => r.household_id, (r) => r.address || "");
    await fill(
      "pass-places",
      "/api/shouwang/registry/places",
      (r) => r.place_id,
      (r) => r.name,
    );
  }

  async create(form) {
    const data = { visitor_name: form.get("visitor_name"), host_household: form.get("host_household") };
    for (const key of ["phone", "day", "plate"]) if (form.get(key)) data[key] = form.get(key);
    const places = String(form.get("places") || "").split(",").map((p) => p.trim()).filter(Boolean);
    if (places.length) data.places = places;
    const response = await attempt(() => api(BASE, { method: "POST", body: data }));
    if (!response) return;
    const pass = response;
    clear(
      this.result,
      h("h3", {}, t("pass.created", { name: pass.visitor_name || data.visitor_name })),
      h("img", { class: "qr", src: pass.qr_svg, alt: t("pass.qr"), testid: "pass-qr" }),
      pass.link ? h("p", { class: "pass-link" }, h("code", { testid: "pass-link" }, pass.link)) : null,
      h("p", { class: "muted" }, t("pass.valid_until", { until: formatTime(pass.valid_until, language()) })),
    );
    await this.refresh();
  }

  async refresh() {
    const response = await attempt(() => api(BASE));
    if (!response) return;
    const passes = response.passes || [];
    clear(
      this.list,
      passes.map((pass) =>
        h(
          "tr",
          { dataset: { pass: pass.pass_id }, testid: "pass-row" },
          h("td", {}, pass.visitor_name),
          h("td", {}, pass.host_household),
          h("td", {}, `${formatTime(pass.valid_from, language())} – ${formatTime(pass.valid_until, language())}`),
          h("td", {}, t(`pass.status.${pass.status}`)),
          h(
            "td",
            {},
            pass.status === "valid" || pass.status === "pending"
              ? h(
                  "button",
                  {
                    class: "small",
                    testid: "pass-revoke",
                    onclick: async () => {
                      await attempt(
                        () => api(`${BASE}/${encodeURIComponent(pass.pass_id)}`, { method: "DELETE" }),
                        "pass.revoked",
                      );
                      await this.refresh();
                    },
                  },
                  t("pass.revoke"),
                )
              : null,
          ),
        ),
      ),
    );
    if (!passes.length) this.list.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("pass.none"))));
  }
}
