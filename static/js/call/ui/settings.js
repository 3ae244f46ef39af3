/**
 * The settings dialog (devices during the call): a modal `<dialog>`, so the
 * browser keeps focus inside, closes it on Escape and gives focus back.
 * @module
 */

import { byId, message, meter, name } from "./dom.js";

export class SettingsDialog {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   */
  constructor(doc, t) {
    this.dialog = /** @type {HTMLDialogElement} */ (byId(doc, "settings"));
    this.error = byId(doc, "settings-error");
    this.cameraHint = byId(doc, "settings-camera-hint");
    this.level = byId(doc, "settings-mic-level");
    this.cameraHint.textContent = t.cameraChoiceWhileOff;
    const close = byId(doc, "settings-close");
    name(close, t.settingsClose);
    close.addEventListener("click", () => this.close());
    // A click on the dimmed backdrop (the dialog box itself, outside its content) closes it.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.close();
    });
    this.dialog.addEventListener("close", () => this.setError(null));
  }

  /** Open it with focus on the first picker. */
  open() {
    this.setError(null);
    if (!this.dialog.open) this.dialog.showModal();
    const first = this.dialog.querySelector(".field:not([hidden]) select");
    if (first instanceof HTMLElement) first.focus();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  get isOpen() {
    return this.dialog.open;
  }

  /**
   * Why a device could not be used (null hides it).
   * @param {string|null} text
   */
  setError(text) {
    message(this.error, text);
  }

  /**
   * The microphone level meter under its picker (0–1).
   * @param {number} level
   */
  setLevel(level) {
    meter(this.level, level);
  }

  /**
   * With the camera off, a camera picked here waits for it to be turned on.
   * @param {boolean} cameraOn
   */
  setCamera(cameraOn) {
    this.cameraHint.hidden = cameraOn;
  }
}
