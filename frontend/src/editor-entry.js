// The parts of CodeMirror 6 the automation editor uses, bundled by esbuild into
// vendor/codemirror.js at set-up time (npm run build); js/yaml-editor.js imports that bundle.
export { EditorView, basicSetup } from "codemirror";
export { EditorState, Compartment } from "@codemirror/state";
export { keymap } from "@codemirror/view";
export { indentWithTab } from "@codemirror/commands";
export { yaml } from "@codemirror/lang-yaml";
export { linter, lintGutter, setDiagnostics, forceLinting } from "@codemirror/lint";
