/**
 * The file channel's control frames (docs/protocol.md, "File transfers"):
 * what a well-formed one looks like, and file names fit to show and save.
 * No DOM, no state.
 * @module
 */

const MAX_NAME = 200;
const MAX_MIME = 100;
const ID = /^[\w-]{1,64}$/;

/** Frames that carry nothing but a transfer id (and maybe a reason). */
const TYPES = new Set([
  "file-offer",
  "file-accept",
  "file-decline",
  "file-start",
  "file-end",
  "file-done",
  "file-cancel",
]);

/**
 * Why a receiver declined an offer without asking its person: above its
 * size limit, too many offers from that peer waiting, or unreadable.
 */
export const DECLINE_REASONS = new Set(["too-large", "busy", "malformed"]);

/** Why a receiver stopped a transfer on its own: the bytes did not match the offer. */
export const CANCEL_REASONS = new Set(["too-many-bytes", "incomplete"]);

/**
 * @typedef {object} Frame
 * @property {string} type one of the `file-*` types
 * @property {string} id the transfer, chosen by its sender
 * @property {string} reason a known reason, or ""
 * @property {unknown} [name]
 * @property {unknown} [size]
 * @property {unknown} [mime]
 */

/**
 * A text message from the file channel, or null if it is not a frame we
 * know (bad JSON, an unknown type, no usable id).
 * @param {string} text
 * @returns {Frame|null}
 */
export function parseFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof frame !== "object" || frame === null || !TYPES.has(frame.type)) return null;
  if (typeof frame.id !== "string" || !ID.test(frame.id)) return null;
  const known = frame.type === "file-decline" ? DECLINE_REASONS : CANCEL_REASONS;
  const reason = typeof frame.reason === "string" && known.has(frame.reason) ? frame.reason : "";
  return { ...frame, reason };
}

/**
 * The parts of a `file-offer` we use, or null if its size is not a whole
 * number of bytes ≥ 1.
 * @param {Frame} frame
 * @returns {{name: string, size: number, mime: string}|null}
 */
export function readOffer(frame) {
  const { size, mime } = frame;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) return null;
  return {
    name: cleanName(frame.name) || "file",
    size,
    mime: typeof mime === "string" && mime.length <= MAX_MIME ? mime : "",
  };
}

/**
 * A file name as it may be shown and saved: no control characters, no
 * folders, at most 200 characters.
 * @param {unknown} name
 * @returns {string}
 */
export function cleanName(name) {
  if (typeof name !== "string") return "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const flat = name.replace(/[\u0000-\u001f\u007f]/g, "").replace(/[\\/]/g, "_");
  return flat.trim().slice(0, MAX_NAME);
}

/**
 * A control frame as sent on the channel.
 * @param {string} type
 * @param {string} id
 * @param {Record<string, string|number>} [extra]
 * @returns {string}
 */
export function frameText(type, id, extra = {}) {
  return JSON.stringify({ type, id, ...extra });
}
