/**
 * The page's fixed controls wired to the facade's intent events: a press on
 * each button, the pre-join form, the questions asked before ending the
 * meeting or removing someone, and Escape closing the chat. Only the facade
 * (index.js) uses it.
 * @module
 */

import { format } from "../format.js";
import { byId } from "./dom.js";

/** @typedef {import("./index.js").CallUI} CallUI */

/** @type {[string, string][]} buttons whose press is the intent itself: element id, intent */
const CLICKS = [
  ["prejoin-mic", "prejoin-mic"],
  ["prejoin-camera", "prejoin-camera"],
  ["ctl-mic", "mic"],
  ["ctl-camera", "camera"],
  ["ctl-screen", "screen"],
  ["ctl-hand", "hand"],
  ["ctl-settings", "settings"],
  ["ctl-invite", "invite"],
  ["ctl-invite-guests", "invite-guests"],
  ["ctl-leave", "leave"],
  ["ended-rejoin", "rejoin"],
  ["ended-join-here", "join-here"],
];

/**
 * Report what the person asks for with the page's fixed controls.
 * @param {CallUI} ui
 */
export function bindIntents(ui) {
  const doc = ui.doc;
  for (const [id, type] of CLICKS) {
    byId(doc, id).addEventListener("click", () => ui.emit(type));
  }
  ui.prejoin.form.addEventListener("submit", (event) => {
    event.preventDefault();
    ui.emit("join");
  });
  byId(doc, "ctl-chat").addEventListener("click", () => ui.toggleChat());
  byId(doc, "chat-close").addEventListener("click", () => ui.toggleChat());
  byId(doc, "ctl-end").addEventListener("click", () => {
    if (window.confirm(ui.t.endConfirm)) ui.emit("end");
  });
  doc.addEventListener("keydown", (event) => {
    // Escape in the settings dialog closes only the dialog (the browser does that).
    if (event.key === "Escape" && ui.chat.isOpen && !ui.settings.isOpen) ui.toggleChat();
  });
}

/**
 * Ask the host before removing someone (a tile's Remove button).
 * @param {CallUI} ui
 * @param {string} id the person's peer id
 */
export function confirmKick(ui, id) {
  const tile = ui.grid.tiles.get(id);
  const name = tile ? tile.info.name : "";
  if (window.confirm(format(ui.t.kickConfirm, { name }))) ui.emit("kick", { id });
}
