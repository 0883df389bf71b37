// Translations: zh-CN and English, from /frontend/i18n/<lang>.json. Chinese is the default when
// the browser prefers Chinese; the choice is remembered in localStorage ("shouwang.lang").

export const LANGUAGES = { "zh-CN": "中文", en: "English" };
const KEY = "shouwang.lang";
const dictionaries = {};
let current = "en";
const listeners = new Set();

export function preferredLanguage() {
  const saved = localStorage.getItem(KEY);
  if (saved && saved in LANGUAGES) return saved;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  for (const lang of wanted) {
    if (lang.toLowerCase().startsWith("zh")) return "zh-CN";
    if (lang.toLowerCase().startsWith("en")) return "en";
  }
  return "en";
}

async function load(lang) {
  if (!dictionaries[lang]) {
    const response = await fetch(`/frontend/i18n/${lang}.json`);
    dictionaries[lang] = response.ok ? await response.json() : {};
  }
  return dictionaries[lang];
}

export async function initI18n() {
  await Promise.all([load("en"), setLanguage(preferredLanguage(), false)]);
}

export async function setLanguage(lang, remember = true) {
  if (!(lang in LANGUAGES)) lang = "en";
  await load(lang);
  current = lang;
  if (remember) localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

export function language() {
  return current;
}

/** Called after every language change (re-render). */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** t("feed.stranger", {place: "北门"}): the current language's text, else English, else the key. */
export function t(key, vars = {}) {
  const text = dictionaries[current]?.[key] ?? dictionaries.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}
