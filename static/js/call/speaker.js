/**
 * Who is speaking: from each person's audio level (links.js measures it from
 * `getStats()`), the one tile to highlight, held so it does not flicker. No
 * DOM, no timers: the caller passes the time.
 * @module
 */

/** A level (RMS, 0–1) from which someone counts as speaking (about −34 dBFS). */
export const SPEAKING_LEVEL = 0.02;
/** How long the highlight stays after the speaker was last heard (ms). */
export const HOLD_MS = 1000;

/**
 * Follows the levels and names the active speaker.
 *
 * The speaker keeps the highlight while heard and for `hold` ms after; only
 * then does the loudest of the others take it, so two people talking over
 * each other do not make it jump back and forth. Nobody above the level for
 * `hold` ms: nobody is highlighted.
 */
export class SpeakerDetector {
  /** @param {{level?: number, hold?: number}} [options] */
  constructor({ level = SPEAKING_LEVEL, hold = HOLD_MS } = {}) {
    this.level = level;
    this.hold = hold;
    /** @type {string|null} */
    this.current = null;
    /** @type {Map<string, number>} when each person was last heard */
    this.heard = new Map();
  }

  /**
   * Take one round of levels.
   * @param {Map<string, number|null>} levels by person id (null: unknown, e.g. muted)
   * @param {number} now ms
   * @returns {string|null} who is speaking now
   */
  update(levels, now) {
    let loudest = null;
    let loudestLevel = this.level;
    for (const [id, level] of levels) {
      if (level === null || level < this.level) continue;
      this.heard.set(id, now);
      if (level >= loudestLevel) {
        loudest = id;
        loudestLevel = level;
      }
    }
    for (const id of [...this.heard.keys()]) if (!levels.has(id)) this.heard.delete(id);
    const current = this.current;
    const heardAt = current === null ? undefined : this.heard.get(current);
    const holding = heardAt !== undefined && now - heardAt < this.hold;
    if (!holding) this.current = loudest;
    return this.current;
  }
}
