/**
 * A host's tools on the page: Mute and Remove on each remote tile, "Mute
 * everyone" in the controls, and who is acting host, on their tile. The
 * tools are shown to whoever may use them now (the room's hosts, or the
 * acting host: hosts.js); the server checks every request again.
 * @module
 */

import { format } from "../format.js";
import { byId, find, name } from "./dom.js";
import { SELF } from "./grid.js";

/** @typedef {import("./grid.js").TileInfo} TileInfo */

export class HostTools {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{onKick: (id: string) => void, onMute: (id: string) => void,
   *   onMuteAll: () => void}} actions
   */
  constructor(doc, t, { onKick, onMute, onMuteAll }) {
    this.t = t;
    this.onKick = onKick;
    this.onMute = onMute;
    /** Whether we may use the tools now. */
    this.canHost = false;
    /** @type {string|null} the tile of the acting host (a peer id, or SELF) */
    this.acting = null;
    this.muteAll = byId(doc, "ctl-mute-all");
    name(this.muteAll, t.muteAll);
    this.muteAll.addEventListener("click", () => onMuteAll());
  }

  /**
   * Who may use the tools, and who is acting host.
   * @param {{canHost: boolean, acting: string|null}} rights `acting` as a tile id
   */
  set({ canHost, acting }) {
    this.canHost = canHost;
    this.acting = acting;
    this.muteAll.hidden = !canHost;
  }

  /**
   * Bring a tile's tools and role up to date (the grid calls this whenever
   * it renders a tile).
   * @param {string} id the tile (a peer id, or SELF)
   * @param {HTMLElement} element
   * @param {TileInfo} info
   * @returns {string[]} what the tile's name should say besides the person's name
   */
  decorate(id, element, info) {
    const acting = id === this.acting;
    element.toggleAttribute("data-acting", acting);
    const role = find(element, ".tile__role");
    role.textContent = acting ? this.t.actingHost : "";
    role.hidden = !acting;
    if (id !== SELF) {
      const kick = find(element, ".tile__kick");
      const mute = find(element, ".tile__mute");
      if (!element.hasAttribute("data-tools")) {
        element.setAttribute("data-tools", "");
        name(kick, format(this.t.kick, { name: info.name }));
        name(mute, format(this.t.muteOne, { name: info.name }));
        kick.addEventListener("click", () => this.onKick(id));
        mute.addEventListener("click", () => this.onMute(id));
      }
      kick.hidden = !this.canHost;
      // Someone already muted has nothing to be asked.
      mute.hidden = !this.canHost || !!info.state.muted;
    }
    return acting ? [this.t.actingHost] : [];
  }
}
