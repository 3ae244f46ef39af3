/**
 * Filling in the page's translated strings (rooms/callconfig.py renders them
 * with Django's gettext and ngettext). No DOM.
 * @module
 */

/**
 * A string with a count in it, in every plural form the language has, keyed
 * by CLDR category (`Intl.PluralRules`): English has `one` and `other`,
 * Korean only `other`.
 * @typedef {Partial<Record<Intl.LDMLPluralRule, string>>} PluralForms
 */

/**
 * Fill `%(name)s` placeholders of a translated string.
 * @param {string} text
 * @param {Record<string, string|number>} [values]
 * @returns {string}
 */
export function format(text, values = {}) {
  return String(text).replace(/%\((\w+)\)s/g, (match, key) =>
    key in values ? String(values[key]) : match,
  );
}

/**
 * Pick the plural form for `n` and fill it in (`n` is available as `%(n)s`).
 * @param {PluralForms|string} forms
 * @param {number} n
 * @param {string} lang the page's language (`<html lang>`)
 * @param {Record<string, string|number>} [values]
 * @returns {string}
 */
export function plural(forms, n, lang, values = {}) {
  let text;
  if (typeof forms === "string") {
    text = forms;
  } else {
    const category = new Intl.PluralRules(lang || undefined).select(n);
    text = forms[category] ?? forms.other ?? Object.values(forms)[0] ?? "";
  }
  return format(text, { n, ...values });
}

/**
 * The first character of a name, for an avatar ("?" when there is none).
 * Counts code points, so a Hangul syllable or an emoji stays whole.
 * @param {string} name
 * @returns {string}
 */
export function initial(name) {
  return (Array.from(name.trim())[0] || "?").toUpperCase();
}

/**
 * A size for people: "820 kB", "1.5 MB" (decimal units, as file managers show).
 * @param {number} size bytes
 * @param {string} [lang]
 * @returns {string}
 */
export function formatBytes(size, lang) {
  const units = /** @type {const} */ (["byte", "kilobyte", "megabyte", "gigabyte"]);
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(lang || undefined, {
    style: "unit",
    unit: units[unit],
    unitDisplay: "short",
    maximumFractionDigits: unit > 1 ? 1 : 0,
  }).format(value);
}
