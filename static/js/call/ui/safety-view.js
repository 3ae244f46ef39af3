/**
 * The security code on the page: a control that opens a dialog with the room
 * code (text, to read aloud) and where the check stands, and a warning in the
 * call view itself (an alert, whether the dialog is open or not) while the
 * ends of some pair disagree. Renders safety-check.js's `change` events.
 * @module
 */

import { format } from "../format.js";
import { byId, name } from "./dom.js";

/** @typedef {import("../safety-check.js").SafetyState} SafetyState */

/** The translated sentence for each status (keys in the strings). */
const STATUS_KEYS = {
  alone: "safetyAlone",
  checking: "safetyChecking",
  verified: "safetyVerified",
  mismatch: "safetyMismatch",
};

export class SafetyView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   */
  constructor(doc, t) {
    this.t = t;
    this.button = byId(doc, "ctl-safety");
    this.dialog = /** @type {HTMLDialogElement} */ (byId(doc, "safety-details"));
    this.code = byId(doc, "safety-code");
    this.status = byId(doc, "safety-status");
    this.warning = byId(doc, "safety-warning");
    this.pairs = byId(doc, "safety-warning-pairs");
    this.button.addEventListener("click", () => this.open());
    byId(doc, "safety-warning-show").addEventListener("click", () => this.open());
    byId(doc, "safety-close").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    /** The pairs the warning names, as shown (to leave the alert alone when unchanged). */
    this.warned = "";
    this.render({ status: "alone", code: null, disputes: [] }, () => "");
  }

  /**
   * Render the check's news from now on (safety-check.js).
   * @param {import("../safety-check.js").SafetyCheck} check
   */
  follow(check) {
    const session = check.session;
    /** @param {string} id */
    const nameOf = (id) =>
      id === session.selfId
        ? this.t.safetyYou
        : session.roster.get(id)?.name || this.t.safetySomeone;
    check.addEventListener("change", (event) => {
      this.render(/** @type {CustomEvent} */ (event).detail, nameOf);
    });
  }

  /**
   * Show where the check stands.
   * @param {SafetyState} state
   * @param {(id: string) => string} nameOf a person's name (ours: "you")
   */
  render(state, nameOf) {
    const t = this.t;
    const status = t[STATUS_KEYS[state.status]];
    this.code.textContent = state.code || "";
    this.code.hidden = !state.code;
    this.status.textContent = status;
    this.button.dataset.status = state.status;
    name(this.button, format(t.safetyButtonLabel, { status }));
    this.dialog.dataset.status = state.status;
    const lines = state.disputes.map(([a, b]) =>
      format(t.safetyWarningPair, { a: nameOf(a), b: nameOf(b) }),
    );
    const warned = lines.join("\n");
    if (warned === this.warned) return;
    this.warned = warned;
    // Filled before it is shown, so the alert is read with its content.
    this.pairs.replaceChildren(
      ...lines.map((line) => {
        const item = this.pairs.ownerDocument.createElement("li");
        item.textContent = line;
        return item;
      }),
    );
    this.warning.hidden = lines.length === 0;
  }

  /** Open the code's dialog. */
  open() {
    if (!this.dialog.open) this.dialog.showModal();
  }

  /** Out of the call: close the dialog and clear the warning. */
  close() {
    if (this.dialog.open) this.dialog.close();
    this.render({ status: "alone", code: null, disputes: [] }, () => "");
  }
}
