/**
 * The devices a person chose, remembered in this browser once they worked.
 * @module
 */

const KEY = "meet.call.devices";

/** @typedef {Partial<Record<"videoinput"|"audioinput"|"audiooutput", string>>} DevicePrefs */

/**
 * @param {Storage|null} [storage]
 * @returns {DevicePrefs}
 */
export function loadPrefs(storage = globalThis.localStorage) {
  try {
    const value = JSON.parse(storage?.getItem(KEY) || "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

/**
 * @param {DevicePrefs} changes
 * @param {Storage|null} [storage]
 */
export function savePrefs(changes, storage = globalThis.localStorage) {
  try {
    storage?.setItem(KEY, JSON.stringify({ ...loadPrefs(storage), ...changes }));
  } catch {
    // Private browsing without storage: choices are simply not remembered.
  }
}
