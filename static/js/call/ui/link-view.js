/**
 * Link health on the page: a badge on each remote tile (good, weak, bad), a
 * details dialog with the pair's figures (a modal `<dialog>`: the browser
 * keeps focus inside, closes it on Escape and gives focus back), and the
 * active speaker's tile highlighted. Renders links.js's events.
 * @module
 */

import { format } from "../format.js";
import { byId, find, name } from "./dom.js";

/** @typedef {import("./grid.js").Grid} Grid */
/** @typedef {import("../session.js").Participant} Participant */
/** @typedef {import("../links.js").LinkHealth} LinkHealth */
/** @typedef {import("../health.js").LinkFigures} LinkFigures */
/** @typedef {import("../links.js").LinkMonitor} LinkMonitor */

/** Translated names of grades, paths and limitation reasons (keys in the strings). */
const GRADE_KEYS = { good: "linkGood", weak: "linkWeak", bad: "linkBad" };
const PATH_KEYS = { host: "pathHost", srflx: "pathSrflx", prflx: "pathSrflx", relay: "pathRelay" };
const LIMIT_KEYS = {
  none: "limitNone",
  bandwidth: "limitBandwidth",
  cpu: "limitCpu",
  other: "limitOther",
};

export class LinkView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {Grid} grid
   * @param {string} lang the page's language, for numbers
   */
  constructor(doc, t, grid, lang) {
    this.t = t;
    this.grid = grid;
    this.numbers = new Intl.NumberFormat(lang || undefined, { maximumFractionDigits: 0 });
    this.percent = new Intl.NumberFormat(lang || undefined, {
      style: "percent",
      maximumFractionDigits: 1,
    });
    this.dialog = /** @type {HTMLDialogElement} */ (byId(doc, "link-details"));
    this.title = byId(doc, "link-details-title");
    this.figures = byId(doc, "link-details-figures");
    /** @type {Map<string, Participant>} the latest of each pair, by peer id */
    this.latest = new Map();
    /** Whose figures the dialog shows. */
    this.shown = /** @type {string|null} */ (null);
    const close = byId(doc, "link-details-close");
    name(close, t.linkDetailsClose);
    close.addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    this.dialog.addEventListener("close", () => {
      this.shown = null;
    });
  }

  /**
   * Render each pair's link health and the active speaker from now on, and
   * forget whoever leaves.
   * @param {LinkMonitor} monitor
   */
  follow(monitor) {
    /** @param {Event} event */
    const detail = (event) => /** @type {CustomEvent} */ (event).detail;
    monitor.addEventListener("link", (event) => this.render(detail(event).participant));
    monitor.addEventListener("speaker", (event) => this.setSpeaker(detail(event).id));
    monitor.session.addEventListener("participant-left", (event) => {
      this.forget(detail(event).participant.id);
    });
  }

  /**
   * A pair's link changed: its badge, and the dialog if it shows that pair.
   * @param {Participant} participant
   */
  render(participant) {
    const tile = this.grid.tiles.get(participant.id);
    if (!tile) return;
    this.latest.set(participant.id, participant);
    const badge = find(tile.element, ".tile__link");
    const link = /** @type {LinkHealth|null} */ (participant.link);
    badge.hidden = !link;
    if (!badge.dataset.bound) {
      badge.dataset.bound = "";
      badge.addEventListener("click", () => this.open(participant.id));
    }
    if (link) {
      const grade = link.grade ? this.t[GRADE_KEYS[link.grade]] : this.t.linkMeasuring;
      badge.dataset.grade = link.grade || "measuring";
      find(badge, ".tile__link-text").textContent = grade;
      name(badge, format(this.t.linkBadgeLabel, { name: participant.name, grade }));
    }
    if (this.shown === participant.id) this.fill(participant);
  }

  /**
   * Open the details of one pair.
   * @param {string} id
   */
  open(id) {
    const participant = this.latest.get(id);
    if (!participant || !this.grid.tiles.has(id)) return;
    this.shown = id;
    this.title.textContent = format(this.t.linkDetailsTitle, { name: participant.name });
    this.fill(participant);
    if (!this.dialog.open) this.dialog.showModal();
  }

  /**
   * Someone left: close their details.
   * @param {string} id
   */
  forget(id) {
    this.latest.delete(id);
    if (this.shown === id) this.dialog.close();
  }

  /** Close the details (the call view goes away). */
  close() {
    this.latest.clear();
    if (this.dialog.open) this.dialog.close();
  }

  /**
   * Highlight the speaker's tile (null: nobody).
   * @param {string|null} id a peer id or the self tile's
   */
  setSpeaker(id) {
    for (const [tileId, tile] of this.grid.tiles) {
      tile.element.dataset.speaking = String(tileId === id);
    }
  }

  /**
   * @private
   * @param {Participant} participant
   */
  fill(participant) {
    const t = this.t;
    const link = /** @type {LinkHealth|null} */ (participant.link);
    const f = link?.figures ?? null;
    const none = t.linkUnknown;
    /** @param {number|null|undefined} value @param {string} text */
    const num = (value, text) =>
      value === null || value === undefined
        ? none
        : format(text, { n: this.numbers.format(value) });
    const path = f?.path ? `${t[PATH_KEYS[f.path]]} · ${(f.transport || "").toUpperCase()}` : none;
    const limit = f?.limitation ? t[LIMIT_KEYS[/** @type {"none"} */ (f.limitation)]] : null;
    /** @type {[string, string, string][]} field, label, value */
    const rows = [
      ["grade", t.linkQuality, link?.grade ? t[GRADE_KEYS[link.grade]] : t.linkMeasuring],
      ["path", t.linkPath, path],
      ["rtt", t.linkRtt, num(f?.rttMs, t.unitMs)],
      ["loss", t.linkLoss, f?.lossPct == null ? none : this.percent.format(f.lossPct / 100)],
      ["jitter", t.linkJitter, num(f?.jitterMs, t.unitMs)],
      ["in", t.linkIn, num(f?.inKbps, t.unitKbps)],
      ["out", t.linkOut, num(f?.outKbps, t.unitKbps)],
      ["fps", t.linkFps, num(f?.fps, t.unitFps)],
      ["limit", t.linkLimit, limit || f?.limitation || none],
    ];
    const items = rows.flatMap(([field, label, value]) => {
      const term = this.figures.ownerDocument.createElement("dt");
      term.textContent = label;
      const data = this.figures.ownerDocument.createElement("dd");
      data.dataset.field = field;
      data.textContent = value;
      return [term, data];
    });
    this.figures.replaceChildren(...items);
    this.figures.dataset.peerId = participant.id;
    this.figures.dataset.path = f?.path || "";
  }
}
