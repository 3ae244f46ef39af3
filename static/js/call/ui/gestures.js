/**
 * Reactions and raised hands on the page: the reaction picker, a reaction
 * shown on its sender's tile for a few seconds, and the queue of raised
 * hands (first raised first) with Lower buttons: on one's own entry, and on
 * everyone's for hosts. Names are text only.
 * @module
 */

import { format } from "../format.js";
import { REACTION_MS, REACTIONS } from "../gestures.js";
import { byId, name } from "./dom.js";

/** @typedef {import("../gestures.js").RaisedHand} RaisedHand */
/** @typedef {import("./grid.js").Grid} Grid */

export class GesturesView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{grid: Grid, onReact: (emoji: string) => void, onLower: (id: string) => void}} options
   */
  constructor(doc, t, { grid, onReact, onLower }) {
    this.doc = doc;
    this.t = t;
    this.grid = grid;
    this.onLower = onLower;
    this.button = byId(doc, "ctl-react");
    this.picker = byId(doc, "reaction-picker");
    this.panel = byId(doc, "hands");
    this.list = byId(doc, "hands-list");
    byId(doc, "hands-title").textContent = t.handsTitle;
    name(this.button, t.react);
    this.picker.setAttribute("aria-label", t.react);
    for (const emoji of REACTIONS) {
      const choice = doc.createElement("button");
      choice.type = "button";
      choice.className = "reaction-picker__choice";
      choice.textContent = emoji;
      choice.dataset.emoji = emoji;
      name(choice, t.reactionNames?.[emoji] || emoji);
      choice.addEventListener("click", () => {
        onReact(emoji);
        this.setPicker(false);
      });
      this.picker.append(choice);
    }
    this.button.addEventListener("click", () => this.setPicker(this.picker.hidden));
    this.picker.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.setPicker(false);
        this.button.focus();
      }
    });
    /** @type {Map<string, ReturnType<typeof setTimeout>>} */
    this.timers = new Map();
  }

  /**
   * @private
   * @param {boolean} open
   */
  setPicker(open) {
    this.picker.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) /** @type {HTMLElement|null} */ (this.picker.querySelector("button"))?.focus();
  }

  /**
   * Show a reaction on its sender's tile (the latest one replaces the last).
   * @param {string} id the tile (a peer id, or the grid's SELF)
   * @param {string} emoji
   */
  showReaction(id, emoji) {
    const tile = this.grid.tiles.get(id);
    if (!tile) return;
    let badge = tile.element.querySelector(".tile__reaction");
    if (!badge) {
      badge = this.doc.createElement("span");
      badge.className = "tile__reaction";
      badge.setAttribute("role", "img");
      tile.element.append(badge);
    }
    badge.textContent = emoji;
    badge.setAttribute("aria-label", this.t.reactionNames?.[emoji] || emoji);
    clearTimeout(this.timers.get(id));
    const shown = badge;
    this.timers.set(
      id,
      setTimeout(() => {
        shown.remove();
        this.timers.delete(id);
      }, REACTION_MS),
    );
  }

  /**
   * The queue of raised hands, in order.
   * @param {RaisedHand[]} queue
   * @param {{nameOf: (id: string) => string, isSelf: (id: string) => boolean, host: boolean}} who
   */
  renderHands(queue, { nameOf, isSelf, host }) {
    const items = queue.map(({ id }, index) => {
      const item = this.doc.createElement("li");
      item.className = "hands__item";
      item.dataset.peerId = id;
      const label = this.doc.createElement("span");
      label.className = "hands__name";
      const who = isSelf(id) ? format(this.t.youSuffix, { name: nameOf(id) }) : nameOf(id);
      label.textContent = `${index + 1}. ${who}`;
      item.append(label);
      if (isSelf(id) || host) {
        const lower = this.doc.createElement("button");
        lower.type = "button";
        lower.className = "hands__lower";
        lower.textContent = this.t.lowerHandShort;
        lower.setAttribute(
          "aria-label",
          isSelf(id) ? this.t.lowerHand : format(this.t.lowerHandOf, { name: nameOf(id) }),
        );
        lower.addEventListener("click", () => this.onLower(id));
        item.append(lower);
      }
      return item;
    });
    this.list.replaceChildren(...items);
    this.panel.hidden = items.length === 0;
  }

  /** The call is over here: nothing left to show. */
  clear() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.list.replaceChildren();
    this.panel.hidden = true;
    this.setPicker(false);
  }
}
