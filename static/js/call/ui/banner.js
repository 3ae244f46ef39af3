/**
 * The short message above the call ("Alex joined", "Reconnecting…").
 * @module
 */

import { byId } from "./dom.js";

/** Non-sticky messages go away after this long (ms). */
const SHOWN_MS = 4000;

/** @typedef {"info"|"warning"|"error"} BannerKind */

export class Banner {
  /**
   * @param {Document} doc
   * @param {(action: string) => void} onAction a banner button was pressed
   */
  constructor(doc, onAction) {
    this.doc = doc;
    this.element = byId(doc, "banner");
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    this.element.addEventListener("click", (event) => {
      const button = /** @type {Element} */ (event.target).closest("[data-action]");
      if (button instanceof HTMLElement && button.dataset.action) onAction(button.dataset.action);
    });
  }

  /**
   * Show a message; with `action`, as a button that reports it.
   * @param {string} text
   * @param {{kind?: BannerKind, sticky?: boolean, action?: string}} [options]
   */
  show(text, { kind = "info", sticky = false, action = "" } = {}) {
    const content = this.doc.createElement(action ? "button" : "span");
    content.textContent = text;
    if (content instanceof HTMLButtonElement) {
      content.type = "button";
      content.className = "banner__action";
      content.dataset.action = action;
    }
    this.element.replaceChildren(content);
    this.element.dataset.kind = kind;
    this.element.hidden = false;
    clearTimeout(this.timer);
    if (!sticky) this.timer = setTimeout(() => this.hide(), SHOWN_MS);
  }

  /**
   * Hide the message (with `kind`, only a message of that kind).
   * @param {BannerKind} [kind]
   */
  hide(kind) {
    if (kind && this.element.dataset.kind !== kind) return;
    clearTimeout(this.timer);
    this.element.hidden = true;
    this.element.dataset.kind = "";
  }
}
