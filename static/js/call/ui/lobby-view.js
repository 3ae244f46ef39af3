/**
 * The lobby on the page (lobby.js): for someone waiting, the line on the
 * pre-join screen (the preview stays); for a host in the call, who knocks
 * with Admit and Deny (one by one, or all) and the lobby switch in the
 * controls. Names are text only.
 * @module
 */

import { format } from "../format.js";
import { byId, message, name, pressed } from "./dom.js";

/** @typedef {import("../lobby.js").Knock} Knock */

export class LobbyView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{onAnswer: (kind: "admit"|"deny", id: string) => void,
   *   onToggle: () => void}} actions `id` "*" answers everyone
   */
  constructor(doc, t, { onAnswer, onToggle }) {
    this.doc = doc;
    this.t = t;
    this.onAnswer = onAnswer;
    this.wait = byId(doc, "lobby-wait");
    this.section = byId(doc, "lobby");
    this.list = byId(doc, "lobby-list");
    this.all = byId(doc, "lobby-all");
    this.toggle = /** @type {HTMLButtonElement} */ (byId(doc, "ctl-lobby"));
    byId(doc, "lobby-title").textContent = t.lobbyKnocking;
    const admitAll = byId(doc, "lobby-admit-all");
    const denyAll = byId(doc, "lobby-deny-all");
    admitAll.textContent = t.lobbyAdmitAll;
    denyAll.textContent = t.lobbyDenyAll;
    admitAll.addEventListener("click", () => onAnswer("admit", "*"));
    denyAll.addEventListener("click", () => onAnswer("deny", "*"));
    this.toggle.addEventListener("click", () => onToggle());
    /** Whether we are one of the room's hosts (who answer the lobby). */
    this.host = false;
    this.setOn(false);
  }

  /**
   * We wait to be let in (`host`: whether a host is there to do it); null: we no longer wait.
   * @param {{host: boolean}|null} waiting
   */
  setWaiting(waiting) {
    if (!waiting) {
      message(this.wait, null);
      return;
    }
    const text = waiting.host ? this.t.lobbyWaiting : this.t.lobbyNoHost;
    message(this.wait, text);
    this.wait.dataset.host = String(waiting.host);
  }

  /**
   * Whether we answer the lobby (the room's hosts, in the call).
   * @param {boolean} host
   */
  setHost(host) {
    this.host = host;
    this.toggle.hidden = !host;
    if (!host) this.section.hidden = true;
  }

  /**
   * The room's lobby is on or off.
   * @param {boolean} on
   */
  setOn(on) {
    pressed(this.toggle, on, this.t.lobbyTurnOff, this.t.lobbyTurnOn);
  }

  /**
   * Who knocks, in order.
   * @param {Knock[]} knocks
   */
  setKnocks(knocks) {
    this.list.replaceChildren(...knocks.map((knock) => this.item(knock)));
    this.all.hidden = knocks.length < 2;
    this.section.hidden = !this.host || knocks.length === 0;
  }

  /**
   * @private
   * @param {Knock} knock
   */
  item(knock) {
    const doc = this.doc;
    const li = doc.createElement("li");
    li.className = "lobby__item";
    li.dataset.id = knock.id;
    const who = doc.createElement("span");
    who.className = "lobby__name";
    who.textContent = knock.guest ? format(this.t.lobbyGuest, { name: knock.name }) : knock.name;
    li.append(who);
    for (const kind of /** @type {const} */ (["admit", "deny"])) {
      const button = doc.createElement("button");
      button.type = "button";
      button.className = `call-button lobby__${kind}`;
      if (kind === "admit") button.classList.add("call-button--primary");
      button.textContent = kind === "admit" ? this.t.lobbyAdmit : this.t.lobbyDeny;
      const label = kind === "admit" ? this.t.lobbyAdmitLabel : this.t.lobbyDenyLabel;
      name(button, format(label, { name: knock.name }));
      button.addEventListener("click", () => this.onAnswer(kind, knock.id));
      li.append(button);
    }
    return li;
  }
}
