/**
 * The full-page message that replaces the call when it is over on this page.
 * @module
 */

import { byId } from "./dom.js";

export class EndedView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   */
  constructor(doc, t) {
    this.section = byId(doc, "ended");
    this.title = byId(doc, "ended-title");
    this.rejoin = byId(doc, "ended-rejoin");
    this.joinHere = byId(doc, "ended-join-here");
    this.login = /** @type {HTMLAnchorElement} */ (byId(doc, "ended-login"));
    this.rejoin.textContent = t.rejoin;
    this.joinHere.textContent = t.joinHere;
    this.login.textContent = t.signIn;
    byId(doc, "ended-room").textContent = t.backToRoom;
  }

  /**
   * @param {string} text why the call is over
   * @param {{rejoin?: boolean, joinHere?: boolean, login?: string}} actions
   */
  show(text, { rejoin = false, joinHere = false, login = "" }) {
    this.section.hidden = false;
    this.title.textContent = text;
    this.rejoin.hidden = !rejoin;
    this.joinHere.hidden = !joinHere;
    this.login.hidden = !login;
    if (login) this.login.href = login;
    const first = this.section.querySelector("button:not([hidden]), a:not([hidden])");
    if (first instanceof HTMLElement) first.focus();
  }
}
