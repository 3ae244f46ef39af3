/**
 * The chat panel: the time-ordered log (text only, never HTML), the input
 * and its hints.
 * @module
 */

import { plural } from "../format.js";
import { byId, find, fromTemplate, name } from "./dom.js";

/** @typedef {import("../chat.js").ChatMessage} ChatMessage */

export class ChatPanel {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{maxLength: number, lang: string, onSend: (text: string) => void}} options
   */
  constructor(doc, t, { maxLength, lang, onSend }) {
    this.doc = doc;
    this.t = t;
    this.lang = lang;
    this.maxLength = maxLength;
    this.onSend = onSend;
    this.panel = byId(doc, "chat-panel");
    this.log = byId(doc, "chat-log");
    this.empty = byId(doc, "chat-empty");
    this.hint = byId(doc, "chat-hint");
    this.input = /** @type {HTMLTextAreaElement} */ (byId(doc, "chat-input"));
    this.timeFormat = new Intl.DateTimeFormat(lang || undefined, {
      hour: "2-digit",
      minute: "2-digit",
    });
    this.input.maxLength = maxLength;
    this.input.placeholder = t.chatPlaceholder;
    this.input.setAttribute("aria-label", t.chatPlaceholder);
    name(byId(doc, "chat-send"), t.chatSend);
    name(byId(doc, "chat-close"), t.chatClose);
    this.empty.textContent = t.chatEmpty;
    byId(doc, "chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter breaks the line; never while composing Hangul.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => {
      const length = this.input.value.length;
      this.hint.textContent = length > maxLength * 0.9 ? `${length} / ${maxLength}` : "";
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /**
   * @param {boolean} open
   */
  setOpen(open) {
    const opening = open && this.panel.hidden;
    this.panel.hidden = !open;
    if (opening) this.input.focus();
  }

  /** @private */
  send() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > this.maxLength) {
      this.hint.textContent = plural(this.t.chatTooLong, this.maxLength, this.lang);
      return;
    }
    this.onSend(text);
  }

  /** The message went out: clear the input. */
  sent() {
    this.input.value = "";
    this.hint.textContent = "";
  }

  /**
   * A hint under the input (e.g. nobody is here to read it).
   * @param {string} text
   */
  setHint(text) {
    this.hint.textContent = text;
  }

  /**
   * Insert a message at `index` of the time-ordered log. Text only.
   * @param {ChatMessage} message
   * @param {number} index
   */
  add(message, index) {
    const item = fromTemplate(this.doc, "chat-message-template");
    item.dataset.id = message.id;
    if (message.mine) item.dataset.mine = "";
    find(item, ".chat-message__name").textContent = message.mine ? this.t.you : message.name;
    const time = /** @type {HTMLTimeElement} */ (find(item, ".chat-message__time"));
    const date = new Date(message.ts);
    time.dateTime = date.toISOString();
    time.textContent = this.timeFormat.format(date);
    find(item, ".chat-message__text").textContent = message.text;
    const log = this.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.insertBefore(item, log.children[index] || null);
    if (atBottom || message.mine) log.scrollTop = log.scrollHeight;
    this.empty.hidden = true;
  }
}
