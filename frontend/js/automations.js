// Automations in the console: the list (enable/disable, run now, traces), the YAML editor
// that shows the server validator's errors at their lines (validate as you type, save with a
// backup, reload), and the trace viewer. Guards see everything read-only: the server refuses
// them configuration anyway; the UI does not offer it.

import { api, callService } from "./auth.js";
import { h, clear, debounce, formatTime } from "./dom.js";
import { language, t } from "./i18n.js";
import { attempt, toast } from "./shell.js";
import { YamlEditor } from "./yaml-editor.js";

const BASE = "/api/shouwang/automations";

/** a run's outcome in words (the raw value when there is no translation) */
function outcome(value) {
  const key = `trace.outcome.${value}`;
  const text = t(key);
  return text === key ? String(value ?? "—") : text;
}

/** the trace key of an automation, as the engine computes it */
function traceKey(item) {
  return item.id ?? item.alias ?? `${item.file}:${item.line}`;
}

export class AutomationsView {
  constructor(connection, user) {
    this.connection = connection;
    this.canConfigure = ["admin", "staff"].includes(user.role);
    this.canControl = user.role !== "resident";
    this.path = null;
    this.saved = "";
    this.list = h("tbody");
    this.loadErrors = h("ul", { class: "editor-errors", testid: "load-errors" });
    this.fileSelect = h("select", { testid: "file-select", onchange: (e) => this.open(e.target.value) });
    this.status = h("span", { class: "muted", testid: "editor-status" });
    this.editorBox = h("div");
    this.traceBox = h("section", { class: "card traces", testid: "trace-view" }, h("p", { class: "muted" }, t("trace.pick")));
    const configButtons = this.canConfigure
      ? [
          h("button", { testid: "validate", onclick: () => this.validate() }, t("editor.validate")),
          h("button", { class: "primary", testid: "save", onclick: () => this.save() }, t("editor.save")),
          h("button", { testid: "reload", onclick: () => this.reload() }, t("editor.reload")),
        ]
      : [h("span", { class: "badge", testid: "read-only" }, t("editor.read_only"))];
    this.element = h(
      "div",
      { class: "automations" },
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("automations.title")),
        h(
          "table",
          { testid: "automation-list" },
          h(
            "thead",
            {},
            h("tr", {}, h("th", {}, t("automations.name")), h("th", {}, t("entity.state")), h("th", {}, t("automations.where")), h("th", {})),
          ),
          this.list,
        ),
        this.loadErrors,
      ),
      h(
        "section",
        { class: "card editor-card" },
        h("div", { class: "toolbar" }, h("h2", {}, t("editor.title")), this.fileSelect, ...configButtons, this.status),
        this.editorBox,
      ),
      this.traceBox,
    );
    this.validateSoon = debounce(() => this.validate(), 600);
    connection.onStates((entityId) => {
      if (entityId === null || entityId.startsWith("automation.")) this.renderStates();
    });
  }

  async start() {
    this.editor = await YamlEditor.create(this.editorBox, {
      readOnly: !this.canConfigure,
      onChange: () => {
        this.status.textContent = this.editor.value === this.saved ? "" : t("editor.unsaved");
        if (this.canConfigure) this.validateSoon();
      },
    });
    await this.refresh();
  }

  async refresh() {
    const data = await attempt(() => api(BASE));
    if (!data) return;
    this.data = data;
    clear(
      this.fileSelect,
      data.files.map((file) => h("option", { value: file.path, selected: file.path === this.path }, file.path)),
    );
    clear(
      this.loadErrors,
      data.errors.map((e) => h("li", {}, `${e.file ?? ""}${e.line ? `:${e.line}` : ""} ${e.message}`)),
    );
    this.renderList();
    if (!this.path && data.files.length) await this.open(data.files[0].path);
  }

  renderList() {
    clear(
      this.list,
      this.data.automations.map((item) => {
        const state = this.connection.states.get(item.entity_id)?.state ?? item.state;
        return h(
          "tr",
          { dataset: { entity: item.entity_id }, testid: "automation-row" },
          h("td", {}, h("div", {}, item.alias || item.id || item.entity_id), h("small", { class: "muted" }, item.entity_id)),
          h("td", { class: `state state-${state}`, dataset: { role: "state" } }, t(`state.${state}`)),
          h(
            "td",
            {},
            h(
              "button",
              { class: "link", onclick: () => this.open(item.file.replace(/^automations\//, ""), item.line) },
              `${item.file}:${item.line}`,
            ),
          ),
          h(
            "td",
            { class: "controls" },
            this.canConfigure
              ? h(
                  "button",
                  {
                    class: "small",
                    testid: state === "on" ? "disable" : "enable",
                    onclick: () =>
                      attempt(() =>
                        callService("automation", state === "on" ? "turn_off" : "turn_on", {
                          entity_id: item.entity_id,
                        }),
                      ),
                  },
                  state === "on" ? t("automations.disable") : t("automations.enable"),
                )
              : null,
            this.canControl
              ? h(
                  "button",
                  {
                    class: "small",
                    testid: "run",
                    onclick: async () => {
                      await attempt(
                        () => callService("automation", "trigger", { entity_id: item.entity_id }),
                        "automations.ran",
                      );
                      await this.showTraces(item);
                    },
                  },
                  t("automations.run"),
                )
              : null,
            h("button", { class: "small", testid: "traces", onclick: () => this.showTraces(item) }, t("automations.traces")),
          ),
        );
      }),
    );
  }

  renderStates() {
    if (this.data) this.renderList();
  }

  async open(path, line) {
    const file = await attempt(() => api(`${BASE}/file?path=${encodeURIComponent(path)}`));
    if (!file) return;
    this.path = path;
    this.fileSelect.value = path;
    this.saved = file.content;
    this.editor.value = file.content;
    this.status.textContent = "";
    if (line) this.editor.goTo(line);
  }

  /** the server's errors for this file at their lines; other files' errors without a line */
  _showErrors(errors) {
    const mine = (error) => !error.file || error.file.endsWith(this.path);
    this.editor.setErrors(
      errors.map((error) =>
        mine(error) ? error : { message: `${error.file}:${error.line ?? ""} ${error.message}`, line: null },
      ),
    );
  }

  async validate() {
    if (!this.path) return null;
    const result = await attempt(() =>
      api(`${BASE}/validate`, { method: "POST", body: { path: this.path, content: this.editor.value } }),
    );
    if (!result) return null;
    this._showErrors(result.errors);
    this.status.textContent = result.valid ? t("editor.valid") : t("editor.invalid", { count: result.errors.length });
    this.status.dataset.valid = String(result.valid);
    return result;
  }

  async save() {
    if (!this.path) return;
    try {
      const result = await api(`${BASE}/file`, {
        method: "PUT",
        body: { path: this.path, content: this.editor.value },
      });
      this.saved = this.editor.value;
      this._showErrors(result.errors);
      this.status.textContent = result.reloaded ? t("editor.saved") : t("editor.saved_not_reloaded");
      this.status.dataset.valid = String(result.reloaded);
      toast(result.backup ? t("editor.backup", { backup: result.backup }) : t("editor.saved"));
      await this.refresh();
    } catch (err) {
      if (err.body?.errors) {
        // the errors are at their lines already; the status says why nothing was saved
        this._showErrors(err.body.errors);
        this.status.textContent = t("editor.not_saved");
        this.status.dataset.valid = "false";
        return;
      }
      toast(err.message, "error");
    }
  }

  async reload() {
    const result = await attempt(() => api(`${BASE}/reload`, { method: "POST" }));
    if (!result) return;
    toast(result.reloaded ? t("editor.reloaded") : t("editor.reload_failed"), result.reloaded ? "info" : "error");
    await this.refresh();
  }

  // -- traces -----------------------------------------------------------------------------
  async showTraces(item) {
    const key = traceKey(item);
    const runs = await attempt(() =>
      this.connection.command({ type: "trace/list", domain: "automation", item_id: key }),
    );
    if (!runs) return;
    const detail = h("div", { class: "trace-detail", testid: "trace-detail" });
    const sorted = [...runs].sort((a, b) => String(b.start).localeCompare(String(a.start)));
    clear(
      this.traceBox,
      h("h2", {}, t("trace.title", { name: item.alias || key })),
      sorted.length
        ? h(
            "ol",
            { class: "runs", testid: "trace-runs" },
            sorted.map((run) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { class: "link", testid: "trace-run", onclick: () => this.showTrace(key, run.run_id, detail) },
                  `${formatTime(run.start, language())} · ${outcome(run.script_execution)}`,
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("trace.none")),
      detail,
    );
    if (sorted.length) await this.showTrace(key, sorted[0].run_id, detail);
  }

  async showTrace(key, runId, box) {
    const trace = await attempt(() =>
      this.connection.command({ type: "trace/get", domain: "automation", item_id: key, run_id: runId }),
    );
    if (!trace) return;
    const row = (label, value) => h("tr", {}, h("th", {}, label), h("td", {}, value ?? ""));
    clear(
      box,
      h(
        "table",
        { class: "kv" },
        row(t("trace.outcome"), h("span", { testid: "trace-outcome" }, outcome(trace.script_execution))),
        row(t("trace.trigger"), trace.trigger),
        row(t("trace.start"), formatTime(trace.start, language())),
        row(t("trace.finish"), formatTime(trace.finish, language())),
        trace.error ? row(t("trace.error"), h("span", { class: "error" }, trace.error)) : null,
      ),
      h("h3", {}, t("trace.conditions")),
      h(
        "ul",
        { class: "trace-list" },
        (trace.conditions || []).map((c) =>
          h("li", { class: c.result ? "ok" : "fail" }, `${c.path}: ${c.result ? "✓" : "✗"}${c.error ? ` ${c.error}` : ""}`),
        ),
      ),
      h("h3", {}, t("trace.steps")),
      h(
        "ol",
        { class: "trace-list", testid: "trace-steps" },
        (trace.steps || []).map((step) =>
          h(
            "li",
            { class: step.error ? "fail" : "ok", testid: "trace-step" },
            h("code", {}, step.path),
            step.alias ? ` ${step.alias}` : "",
            h("small", { class: "muted" }, ` ${formatTime(step.timestamp, language())}`),
            step.error ? h("div", { class: "error" }, step.error) : null,
            step.result ? h("pre", {}, JSON.stringify(step.result, null, 2)) : null,
          ),
        ),
      ),
      h("details", {}, h("summary", {}, t("trace.variables")), h("pre", {}, JSON.stringify(trace.trigger_variables, null, 2))),
    );
  }
}
