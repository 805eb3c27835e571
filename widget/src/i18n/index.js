/**
 * Every string the widget shows, per language, and how to pick and fill them.
 *
 * Keys ending in `_one`, `_few`, `_many`, `_other` are plural forms picked with Intl.PluralRules;
 * `{name}` placeholders are filled in one pass, so user text that happens to contain braces is
 * never expanded.
 */
import de from "./de.js";
import en from "./en.js";
import es from "./es.js";
import fr from "./fr.js";
import it from "./it.js";
import pt from "./pt.js";

/** @type {Record<string, Record<string, string>>} */
export const CATALOGUES = { en, it, es, fr, de, pt };

/**
 * The language to speak: an explicit `wanted` locale when it is one we have ("auto" or none
 * means the browser's), else the first of the browser's languages we have, else English.
 * @param {string | undefined | null} wanted
 * @param {readonly string[]} [browserLanguages] navigator.languages, in order of preference
 * @returns {string}
 */
export function resolveLocale(wanted, browserLanguages = defaultLanguages()) {
  const explicit = wanted && wanted !== "auto";
  const candidates = explicit ? [wanted] : browserLanguages;
  for (const candidate of candidates) {
    const found = supported(candidate);
    if (found) return found;
  }
  return "en";
}

/** @param {string | undefined | null} candidate @returns {string | null} */
function supported(candidate) {
  if (!candidate) return null;
  const lower = String(candidate).toLowerCase();
  if (CATALOGUES[lower]) return lower;
  const base = lower.split(/[-_]/)[0];
  return CATALOGUES[base] ? base : null;
}

/** @returns {readonly string[]} */
function defaultLanguages() {
  if (typeof navigator === "undefined") return [];
  if (Array.isArray(navigator.languages) && navigator.languages.length) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

/**
 * @param {string} locale
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function translate(locale, key, params) {
  const table = CATALOGUES[locale] || CATALOGUES.en;
  let chosen = key;
  if (params && typeof params.count === "number") {
    const form = new Intl.PluralRules(locale).select(params.count);
    const plural = `${key}_${form}`;
    const other = `${key}_other`;
    if (plural in table || plural in CATALOGUES.en) chosen = plural;
    else if (other in table || other in CATALOGUES.en) chosen = other;
  }
  const text = table[chosen] ?? CATALOGUES.en[chosen] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) =>
    params && name in params ? String(params[name]) : match,
  );
}

/** @type {[Intl.RelativeTimeFormatUnit, number][]} unit and its length in seconds */
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/**
 * "2 min ago", "gestern", "il y a 3 jours": a time relative to now, in the reader's language.
 * @param {string} iso an RFC 3339 time
 * @param {string} locale
 * @param {number} [now] milliseconds since the epoch
 * @returns {string} "" for a time that cannot be read
 */
export function relativeTime(iso, locale, now = Date.now()) {
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return "";
  const seconds = Math.round((then - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
  for (const [unit, length] of UNITS) {
    if (Math.abs(seconds) >= length) return format.format(Math.trunc(seconds / length), unit);
  }
  // Under a minute (or a clock a little ahead of the server's): "now".
  return format.format(0, "second");
}
