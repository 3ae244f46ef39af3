/**
 * The "send a file" control: a small popover with whom to send it to
 * (everyone, or one person by name) and the button that opens the
 * browser's file picker. Names are text only.
 * @module
 */

import { byId, name } from "./dom.js";

/**
 * Whom a file goes to: one person, or null for everyone in the call.
 * @typedef {{id: string, name: string}|null} FileTarget
 */

export class FilePicker {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{onSend: (file: File, to: FileTarget) => void}} options
   */
  constructor(doc, t, { onSend }) {
    this.doc = doc;
    this.t = t;
    this.button = byId(doc, "ctl-file");
    this.popover = byId(doc, "file-picker");
    this.select = /** @type {HTMLSelectElement} */ (byId(doc, "file-to"));
    this.input = /** @type {HTMLInputElement} */ (byId(doc, "file-input"));
    const choose = byId(doc, "file-choose");
    name(this.button, t.fileSend);
    this.popover.setAttribute("aria-label", t.fileSend);
    byId(doc, "file-to-label").textContent = t.fileSendTo;
    choose.textContent = t.fileChoose;
    this.input.setAttribute("aria-label", t.fileSend);
    /**
     * Whom the file being picked goes to, read when the picker opened: a
     * person leaving meanwhile must not turn it into a file for everyone.
     * @type {FileTarget|undefined}
     */
    this.pending = undefined;
    this.button.addEventListener("click", () => this.setOpen(this.popover.hidden));
    choose.addEventListener("click", () => {
      this.pending = this.target();
      this.input.click();
    });
    this.input.addEventListener("change", () => {
      const file = this.input.files?.[0];
      const to = this.pending === undefined ? this.target() : this.pending;
      this.pending = undefined;
      this.input.value = "";
      this.setOpen(false);
      if (file) onSend(file, to);
    });
    this.popover.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.setOpen(false);
        this.button.focus();
      }
    });
    this.setPeople([]);
  }

  /**
   * Who can be picked: everyone else in the call. A chosen person who is
   * still here stays chosen.
   * @param {{id: string, name: string}[]} people
   */
  setPeople(people) {
    const chosen = this.select.value;
    const everyone = this.option("", this.t.fileEveryone);
    this.select.replaceChildren(everyone, ...people.map((p) => this.option(p.id, p.name)));
    this.select.value = people.some((p) => p.id === chosen) ? chosen : "";
  }

  /**
   * @private
   * @param {string} value
   * @param {string} text
   */
  option(value, text) {
    const option = this.doc.createElement("option");
    option.value = value;
    option.textContent = text;
    return option;
  }

  /**
   * @private
   * @returns {FileTarget}
   */
  target() {
    const option = this.select.selectedOptions[0];
    return option?.value ? { id: option.value, name: option.textContent || "" } : null;
  }

  /**
   * @param {boolean} open
   */
  setOpen(open) {
    this.popover.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.select.focus();
  }
}
