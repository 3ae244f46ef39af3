/**
 * File sharing on the page: one entry per transfer with its name (text
 * only), who it is from or to, a progress bar, what is happening (or why it
 * failed), and what one can do (Accept / Decline, Cancel, Save). The "send a
 * file" control is ui/file-picker.js.
 * @module
 */

import { format, formatBytes } from "../format.js";
import { byId, message, name } from "./dom.js";

/** @typedef {import("../file-transfer.js").Transfer} Transfer */

/** States in which a transfer can still be cancelled. */
const ACTIVE = new Set(["waiting", "sending", "receiving"]);

export class FilesView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{lang: string,
   *   onAnswer: (action: "accept"|"decline"|"cancel", peer: string, id: string) => void}} options
   */
  constructor(doc, t, { lang, onAnswer }) {
    this.doc = doc;
    this.t = t;
    this.lang = lang;
    this.onAnswer = onAnswer;
    this.panel = byId(doc, "files");
    this.list = byId(doc, "files-list");
    this.notice = byId(doc, "files-notice");
    byId(doc, "files-title").textContent = t.files;
    const close = byId(doc, "files-close");
    name(close, t.filesHide);
    // Hidden until something new happens to a transfer (progress alone does not count).
    close.addEventListener("click", () => {
      this.panel.hidden = true;
    });
    /** @type {Map<string, HTMLElement>} */
    this.items = new Map();
    /** @type {Map<string, string>} who each transfer is with, kept once they left */
    this.names = new Map();
    /** @type {string[]} */
    this.urls = [];
  }

  /**
   * Why a file could not be sent (null hides it).
   * @param {string|null} text
   */
  setNotice(text) {
    message(this.notice, text);
    if (text) this.panel.hidden = false;
    else this.panel.hidden = this.items.size === 0;
  }

  /**
   * Show a transfer as it is now.
   * @param {Transfer} transfer
   * @param {string|undefined} peerName the other side, from the roster (none once they left)
   */
  render(transfer, peerName) {
    const key = `${transfer.peer}\n${transfer.id}`;
    if (peerName) this.names.set(key, peerName);
    let item = this.items.get(key);
    if (!item) {
      item = this.doc.createElement("li");
      item.className = "file";
      item.dataset.id = transfer.id;
      item.dataset.direction = transfer.direction;
      for (const part of ["name", "meta", "status", "actions"]) {
        const element = this.doc.createElement(part === "actions" ? "div" : "p");
        element.className = `file__${part}`;
        item.append(element);
      }
      const bar = this.doc.createElement("progress");
      bar.className = "file__progress";
      item.querySelector(".file__status")?.before(bar);
      this.items.set(key, item);
      this.list.prepend(item);
    }
    if (item.dataset.state !== transfer.state) this.panel.hidden = false;
    const t = this.t;
    const part = (/** @type {string} */ cls) =>
      /** @type {HTMLElement} */ (item.querySelector(`.file__${cls}`));
    item.dataset.state = transfer.state;
    part("name").textContent = transfer.name;
    const who = format(transfer.direction === "in" ? t.fileFrom : t.fileTo, {
      name: this.names.get(key) || t.fileSomeone,
    });
    part("meta").textContent = `${who} · ${formatBytes(transfer.size, this.lang)}`;
    const bar = /** @type {HTMLProgressElement} */ (item.querySelector(".file__progress"));
    bar.max = transfer.size;
    bar.value = transfer.done;
    bar.setAttribute("aria-label", format(t.fileProgress, { name: transfer.name }));
    const limit = formatBytes(transfer.size, this.lang);
    const status = transfer.error
      ? t.fileErrors[transfer.error] || t.fileStates.failed
      : t.fileStates[transfer.state];
    part("status").textContent = format(status || "", { size: limit });
    this.renderActions(part("actions"), transfer);
  }

  /**
   * @private
   * @param {HTMLElement} actions
   * @param {Transfer} transfer
   */
  renderActions(actions, transfer) {
    // Progress alone changes nothing here: keep the buttons (and the focus).
    const signature = `${transfer.state}:${!!transfer.blob}`;
    if (actions.dataset.signature === signature) return;
    actions.dataset.signature = signature;
    const t = this.t;
    /** @type {HTMLElement[]} */
    const buttons = [];
    const button = (/** @type {string} */ text, /** @type {"accept"|"decline"|"cancel"} */ act) => {
      const element = this.doc.createElement("button");
      element.type = "button";
      element.className = `call-button file__${act}`;
      element.textContent = text;
      element.addEventListener("click", () => this.onAnswer(act, transfer.peer, transfer.id));
      buttons.push(element);
    };
    if (transfer.state === "offered") {
      button(t.fileAccept, "accept");
      button(t.fileDecline, "decline");
    } else if (ACTIVE.has(transfer.state)) {
      button(t.fileCancel, "cancel");
    } else if (transfer.state === "done" && transfer.blob) {
      const save = this.doc.createElement("a");
      save.className = "call-button file__save";
      save.textContent = t.fileSave;
      save.download = transfer.name;
      save.href = URL.createObjectURL(transfer.blob);
      this.urls.push(save.href);
      buttons.push(save);
    }
    actions.replaceChildren(...buttons);
  }

  /** The call is over here. */
  clear() {
    for (const url of this.urls.splice(0)) URL.revokeObjectURL(url);
    this.items.clear();
    this.names.clear();
    this.list.replaceChildren();
    this.setNotice(null);
  }
}
