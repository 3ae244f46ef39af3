/**
 * Silent directions: audio or video that should flow from a peer but does
 * not (its audio bytes, or its decoded video frames, stop growing while the
 * peer says it is unmuted, or its camera or screen is on; video is counted
 * in frames because bandwidth probes keep padding bytes coming), noticed by the receiving side within
 * `SILENT_AFTER_MS` and repaired by a ladder: an ICE restart on that pair,
 * then, if it is still silent `REPAIR_WAIT_MS` later, a rebuilt pair. The
 * receiver also tells the sender (a `receiving` frame on the pair's
 * channel), so the sender's page says it too. Fed by links.js once a
 * second per connected pair. No DOM.
 * @module
 */

/** A direction whose bytes have not grown this long is silent (ms). */
export const SILENT_AFTER_MS = 2000;
/** How long a repair step gets before the next one (ms). */
export const REPAIR_WAIT_MS = 4000;
/** The data-channel frame: what the receiver is missing from us. */
export const RECEIVING_FRAME = "receiving";

/** @typedef {"audio"|"video"} Kind */
/** @typedef {"ice-restart"|"rebuild"} RepairStep */
/** @typedef {{muted: boolean, camera: boolean, screen: boolean}} SenderState */
/**
 * @typedef {{pc: RTCPeerConnection|null, restart(): void, sendData(data: string): boolean}} PairLike
 */

/**
 * What should arrive from a peer in its state.
 * @param {SenderState} state
 * @returns {Record<Kind, boolean>}
 */
export function expected(state) {
  return { audio: !state.muted, video: state.camera || state.screen };
}

/** Follows one connection's inbound bytes per kind. */
export class DirectionWatch {
  constructor() {
    /** @type {Record<Kind, {bytes: number, since: number}>} */
    this.kinds = { audio: { bytes: -1, since: 0 }, video: { bytes: -1, since: 0 } };
  }

  /**
   * One sample: the kinds silent now.
   * @param {{audioBytesIn: number, framesDecoded: number}} snapshot
   * @param {SenderState} state
   * @param {number} now ms
   * @returns {Kind[]}
   */
  update(snapshot, state, now) {
    const wanted = expected(state);
    /** @type {Kind[]} */
    const silent = [];
    for (const kind of /** @type {Kind[]} */ (["audio", "video"])) {
      const bytes = kind === "audio" ? snapshot.audioBytesIn : snapshot.framesDecoded;
      const watch = this.kinds[kind];
      // Not expected, first seen, or growing: the clock starts again.
      if (!wanted[kind] || watch.bytes < 0 || bytes > watch.bytes) watch.since = now;
      watch.bytes = bytes;
      if (wanted[kind] && now - watch.since >= SILENT_AFTER_MS) silent.push(kind);
    }
    return silent;
  }
}

/**
 * Parse a `receiving` frame: the kinds the peer misses from us, or null.
 * @param {any} frame
 * @returns {Kind[]|null}
 */
export function parseReceiving(frame) {
  if (!frame || frame.type !== RECEIVING_FRAME || !Array.isArray(frame.missing)) return null;
  return /** @type {Kind[]} */ (["audio", "video"].filter((kind) => frame.missing.includes(kind)));
}

/** Every pair's directions, and the repair ladder for the silent ones. */
export class Silences {
  constructor() {
    /** @type {WeakMap<object, DirectionWatch>} */
    this.watches = new WeakMap();
    /** @type {Map<string, {step: RepairStep, at: number}>} */
    this.repairs = new Map();
    /** What each peer was last told it is missing. @type {Map<string, string>} */
    this.told = new Map();
  }

  /**
   * One sample of a connected pair: which kinds are silent, and the repair
   * step under way (null when all flows).
   * @param {string} id
   * @param {PairLike} pair
   * @param {{audioBytesIn: number, framesDecoded: number}} snapshot
   * @param {SenderState} state
   * @param {number} now ms
   * @returns {{silent: Kind[], repair: RepairStep|null}}
   */
  sample(id, pair, snapshot, state, now) {
    const pc = pair.pc;
    if (!pc) return { silent: [], repair: null };
    let watch = this.watches.get(pc);
    if (!watch) {
      watch = new DirectionWatch();
      this.watches.set(pc, watch);
    }
    const silent = watch.update(snapshot, state, now);
    this.tell(id, pair, silent);
    return { silent, repair: this.step(id, pair, silent, now) };
  }

  /**
   * @private The ladder: ICE restart, then rebuild, then round again.
   * @param {string} id
   * @param {PairLike} pair
   * @param {Kind[]} silent
   * @param {number} now
   * @returns {RepairStep|null}
   */
  step(id, pair, silent, now) {
    const under = this.repairs.get(id);
    if (silent.length === 0) {
      this.repairs.delete(id);
      return null;
    }
    if (under && now - under.at < REPAIR_WAIT_MS) return under.step;
    if (!under || under.step === "rebuild") {
      pair.pc?.restartIce();
      this.repairs.set(id, { step: "ice-restart", at: now });
      return "ice-restart";
    }
    pair.restart();
    this.repairs.set(id, { step: "rebuild", at: now });
    return "rebuild";
  }

  /**
   * @private Tell the sender what we miss from it, when that changes.
   * @param {string} id
   * @param {PairLike} pair
   * @param {Kind[]} silent
   */
  tell(id, pair, silent) {
    const said = silent.join(",");
    if ((this.told.get(id) ?? "") === said) return;
    if (pair.sendData(JSON.stringify({ type: RECEIVING_FRAME, missing: silent }))) {
      this.told.set(id, said);
    }
  }

  /**
   * Someone left: forget their pair.
   * @param {string} id
   */
  forget(id) {
    this.repairs.delete(id);
    this.told.delete(id);
  }
}
