// The YAML editor: CodeMirror 6 (bundled by scripts/setup into /frontend/vendor/codemirror.js)
// with YAML highlighting and the server validator's errors as lint diagnostics at their
// lines. Without the bundle it falls back to a plain text area; the error list below the
// editor (with line numbers) works either way.

import { h, clear } from "./dom.js";
import { t } from "./i18n.js";

let codemirror = null;

async function loadCodeMirror() {
  if (codemirror === null) {
    codemirror = await import("/frontend/vendor/codemirror.js").catch(() => false);
  }
  return codemirror || null;
}

export class YamlEditor {
  static async create(parent, options) {
    const editor = new YamlEditor(parent, options);
    await editor._mount();
    return editor;
  }

  constructor(parent, { readOnly = false, onChange = null } = {}) {
    this.parent = parent;
    this.readOnly = readOnly;
    this.onChange = onChange;
    this.errors = h("ul", { class: "editor-errors", testid: "editor-errors" });
    this.host = h("div", { class: "editor-host", testid: "yaml-editor" });
    clear(parent, this.host, this.errors);
  }

  async _mount() {
    const cm = await loadCodeMirror();
    if (cm) {
      this.cm = cm;
      this.editable = new cm.Compartment();
      this.view = new cm.EditorView({
        parent: this.host,
        state: this._state(""),
      });
      this.host.dataset.editor = "codemirror";
    } else {
      this.textarea = h("textarea", {
        class: "editor-fallback",
        spellcheck: false,
        readOnly: this.readOnly,
        oninput: () => this.onChange?.(this.value),
      });
      this.host.append(this.textarea);
      this.host.dataset.editor = "textarea";
    }
  }

  _state(doc) {
    const cm = this.cm;
    return cm.EditorState.create({
      doc,
      extensions: [
        cm.basicSetup,
        cm.keymap.of([cm.indentWithTab]),
        cm.yaml(),
        cm.lintGutter(),
        this.editable.of([
          cm.EditorState.readOnly.of(this.readOnly),
          cm.EditorView.editable.of(!this.readOnly),
        ]),
        cm.EditorView.updateListener.of((update) => {
          if (update.docChanged) this.onChange?.(this.value);
        }),
      ],
    });
  }

  get value() {
    return this.view ? this.view.state.doc.toString() : this.textarea.value;
  }

  set value(text) {
    if (this.view) this.view.setState(this._state(text));
    else this.textarea.value = text;
    this.setErrors([]);
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    if (this.view) {
      this.view.dispatch({
        effects: this.editable.reconfigure([
          this.cm.EditorState.readOnly.of(readOnly),
          this.cm.EditorView.editable.of(!readOnly),
        ]),
      });
    } else {
      this.textarea.readOnly = readOnly;
    }
  }

  /** errors: [{line, message}] from the server (line 1-based, may be null) */
  setErrors(errors) {
    clear(
      this.errors,
      errors.map((error) =>
        h(
          "li",
          { dataset: { line: error.line ?? "" }, testid: "editor-error", onclick: () => this.goTo(error.line) },
          error.line ? h("strong", {}, t("editor.line", { line: error.line })) : null,
          ` ${error.message}`,
        ),
      ),
    );
    if (!this.view) return;
    const doc = this.view.state.doc;
    const diagnostics = errors.map((error) => {
      const line = doc.line(Math.min(Math.max(error.line || 1, 1), doc.lines));
      // an empty line still gets a visible one-character mark
      const to = line.to > line.from ? line.to : Math.min(line.from + 1, doc.length);
      return { from: line.from, to, severity: "error", message: error.message, source: "Shouwang" };
    });
    this.view.dispatch(this.cm.setDiagnostics(this.view.state, diagnostics));
  }

  goTo(lineNumber) {
    if (!this.view || !lineNumber) return;
    const doc = this.view.state.doc;
    const line = doc.line(Math.min(lineNumber, doc.lines));
    this.view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
    this.view.focus();
  }
}
