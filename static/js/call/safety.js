/**
 * The mesh safety check (docs/call.md, "Security code"). Each pair's DTLS
 * certificates are named in its SDP (`a=fingerprint:`); the signaling server
 * relays that SDP, so it could put its own certificate in and sit in the
 * middle of a pair. Every page therefore tells its peers, on the data
 * channels, which fingerprints it sees on each of its pairs, checks what the
 * ends of every pair say about each other, and derives one room code from all
 * the fingerprints of the mesh that people can read aloud. No DOM.
 *
 * What a page knows first hand: its own certificate and the other end's on
 * each of its connections. What it learns: the same of every other pair, from
 * both ends' reports. Reports only ever add warnings: a peer that lies can
 * make everyone see a warning, never hide one another page raised. A page
 * whose every channel goes through the attacker may be shown a consistent
 * world; its code then differs from everyone else's, which reading it aloud
 * shows.
 * @module
 */

/** The data-channel frame type (docs/protocol.md, "Peer to peer"). */
export const FRAME_TYPE = "fingerprints";
/** How many digits the room code has (shown in groups of four). */
export const CODE_DIGITS = 12;
/** What the code's hash starts with, so it can never equal another use of the same data. */
const CODE_CONTEXT = "meet mesh safety code v1";

const MAX_ID = 64;
/** A mesh of four reports three pairs and at most six disputes: anything larger is forged. */
const MAX_ENTRIES = 8;
const MAX_FINGERPRINTS = 4;
/** Earlier certificates remembered per end of a pair (a rebuild makes new ones). */
const HISTORY = 8;
/** `hash-function SP 2UHEX *(":" 2UHEX)` (RFC 8122), from MD5's 16 bytes to SHA-512's 64. */
const FINGERPRINT = /^[a-z0-9-]{2,16} [0-9A-F]{2}(?::[0-9A-F]{2}){15,63}$/;
const SDP_FINGERPRINT = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\r?$/gm;

/**
 * What one end sees on its connection to the other: each is a canonical
 * fingerprint value (`fingerprintValue`).
 * @typedef {{local: string, remote: string}} View
 */

/**
 * A peer's latest report: its views by the other end's peer id, and the
 * pairs it found in disagreement.
 * @typedef {{views: Map<string, View>, disputes: [string, string][]}} Report
 */

/**
 * Where the check stands on this page.
 * - `alone`: nobody else in the call.
 * - `checking`: a pair is not negotiated yet, or one end's report is still missing.
 * - `verified`: both ends of every pair agree.
 * - `mismatch`: some pair's ends disagree (found here or by a peer).
 * @typedef {"alone"|"checking"|"verified"|"mismatch"} SafetyStatus
 */

/**
 * @typedef {object} Assessment
 * @property {SafetyStatus} status
 * @property {string[]|null} fingerprints every fingerprint of the mesh (null until all are known)
 * @property {[string, string][]} disputes pairs in disagreement, found here or reported
 * @property {[string, string][]} found the pairs of `disputes` this page found itself
 */

/**
 * Canonical form of a set of fingerprints: each `algorithm HEX:HEX…` with the
 * algorithm in lower case and the hex in upper case, sorted, comma-joined.
 * @param {Iterable<string>} fingerprints
 * @returns {string|null} null when there are none, or one is malformed
 */
function canonical(fingerprints) {
  const found = new Set();
  for (const raw of fingerprints) {
    const space = raw.indexOf(" ");
    const value = `${raw.slice(0, space).toLowerCase()} ${raw.slice(space + 1).toUpperCase()}`;
    if (space < 0 || !FINGERPRINT.test(value)) return null;
    found.add(value);
  }
  if (found.size === 0 || found.size > MAX_FINGERPRINTS) return null;
  return [...found].sort().join(",");
}

/**
 * The fingerprints an SDP names (`a=fingerprint:` at session or media level;
 * with BUNDLE every section names the same one), as one canonical value.
 * @param {string|null|undefined} sdp
 * @returns {string|null} null without any, or with a malformed one
 */
export function sdpFingerprints(sdp) {
  const lines = [...(sdp || "").matchAll(SDP_FINGERPRINT)].map((m) => `${m[1]} ${m[2]}`);
  return lines.length ? canonical(lines) : null;
}

/**
 * A fingerprint value from a report, in canonical form (null if malformed).
 * @param {unknown} value
 * @returns {string|null}
 */
export function fingerprintValue(value) {
  if (typeof value !== "string" || value.length === 0 || value.length > 1000) return null;
  return canonical(value.split(","));
}

/** @param {unknown} id */
function validId(id) {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_ID;
}

/**
 * Check a `fingerprints` frame from `sender`. A frame that is not entirely
 * readable is dropped whole (the sender's previous report stays).
 * @param {any} frame
 * @param {string} sender the peer whose channel carried it
 * @returns {Report|null}
 */
export function validReport(frame, sender) {
  if (frame?.type !== FRAME_TYPE || !Array.isArray(frame.pairs)) return null;
  const disputed = frame.mismatch ?? [];
  if (!Array.isArray(disputed) || frame.pairs.length > MAX_ENTRIES) return null;
  if (disputed.length > MAX_ENTRIES) return null;
  /** @type {Map<string, View>} */
  const views = new Map();
  for (const entry of frame.pairs) {
    const peer = entry?.peer;
    if (!validId(peer) || peer === sender || views.has(peer)) return null;
    const local = fingerprintValue(entry.local);
    const remote = fingerprintValue(entry.remote);
    if (!local || !remote) return null;
    views.set(peer, { local, remote });
  }
  /** @type {[string, string][]} */
  const disputes = [];
  for (const pair of disputed) {
    if (!Array.isArray(pair) || pair.length !== 2) return null;
    const [a, b] = pair;
    if (!validId(a) || !validId(b) || a === b) return null;
    disputes.push(ordered(a, b));
  }
  return { views, disputes };
}

/**
 * @param {string} a
 * @param {string} b
 * @returns {[string, string]}
 */
function ordered(a, b) {
  return a < b ? [a, b] : [b, a];
}

/**
 * The room code: SHA-256 over every fingerprint of the mesh, sorted (so the
 * order they were learnt in does not matter), as `CODE_DIGITS` digits in
 * groups of four.
 * @param {string[]} fingerprints
 * @param {(data: Uint8Array) => Promise<ArrayBuffer>} [digest]
 * @returns {Promise<string>}
 */
export async function roomCode(
  fingerprints,
  digest = (data) => crypto.subtle.digest("SHA-256", /** @type {BufferSource} */ (data)),
) {
  const text = [CODE_CONTEXT, ...[...fingerprints].sort()].join("\n");
  const hash = new Uint8Array(await digest(new TextEncoder().encode(text)));
  let number = 0n;
  for (const byte of hash.subarray(0, 8)) number = (number << 8n) | BigInt(byte);
  const digits = (number % 10n ** BigInt(CODE_DIGITS)).toString().padStart(CODE_DIGITS, "0");
  return /** @type {string[]} */ (digits.match(/.{4}/g)).join(" ");
}

/**
 * What this page knows of the mesh's fingerprints: its own views, each peer's
 * latest report, and the certificates each end used earlier on each pair.
 */
export class Ledger {
  constructor() {
    /** Our peer id (null before the call). */
    this.self = /** @type {string|null} */ (null);
    /** @type {Map<string, View>} our views, by the other end's peer id */
    this.own = new Map();
    /** @type {Map<string, Report>} by the reporting peer's id */
    this.reports = new Map();
    /** @type {Map<string, string[]>} by `end \n other end`: that end's certificates so far */
    this.history = new Map();
  }

  /**
   * Our view of the pair with `peer` (null: not negotiated yet).
   * @param {string} peer
   * @param {View|null} view
   */
  setOwn(peer, view) {
    if (!view) this.own.delete(peer);
    else {
      this.own.set(peer, view);
      if (this.self) this.remember(this.self, peer, view.local);
    }
  }

  /**
   * Take a frame from `sender`'s channel.
   * @param {string} sender
   * @param {any} frame
   * @returns {boolean} whether it was a valid report
   */
  receive(sender, frame) {
    const report = validReport(frame, sender);
    if (!report) return false;
    this.reports.set(sender, report);
    for (const [peer, view] of report.views) this.remember(sender, peer, view.local);
    return true;
  }

  /**
   * Someone left: their report and what we knew of their pairs go.
   * @param {string} id
   */
  forget(id) {
    this.own.delete(id);
    this.reports.delete(id);
    for (const key of [...this.history.keys()]) {
      if (key.split("\n").includes(id)) this.history.delete(key);
    }
  }

  /**
   * Check every pair among us and `peers` and gather the mesh's fingerprints.
   * @param {string[]} peers the ids of everyone else in the call
   * @returns {Assessment}
   */
  assess(peers) {
    const self = this.self;
    if (!self || peers.length === 0) {
      return { status: "alone", fingerprints: null, disputes: [], found: [] };
    }
    const everyone = [self, ...peers];
    /** @type {string[]} */
    const fingerprints = [];
    /** @type {[string, string][]} */
    const found = [];
    let complete = true;
    let pending = false;
    for (let i = 0; i < everyone.length; i += 1) {
      for (const b of everyone.slice(i + 1)) {
        const a = everyone[i];
        const pair = this.checkPair(a, b);
        if (pair.check === "mismatch") found.push(ordered(a, b));
        if (pair.check === "pending") pending = true;
        if (pair.values) fingerprints.push(...pair.values);
        else complete = false;
      }
    }
    const known = new Set(everyone);
    const disputes = new Map(found.map((pair) => [pair.join("\n"), pair]));
    for (const [sender, report] of this.reports) {
      if (!known.has(sender)) continue;
      for (const pair of report.disputes) {
        if (known.has(pair[0]) && known.has(pair[1])) disputes.set(pair.join("\n"), pair);
      }
    }
    /** @type {SafetyStatus} */
    let status = "verified";
    if (disputes.size > 0) status = "mismatch";
    else if (!complete || pending) status = "checking";
    return {
      status,
      fingerprints: complete ? fingerprints : null,
      disputes: [...disputes.values()].sort(),
      found: found.sort(),
    };
  }

  /**
   * Our report, for our peers: our views and the disputes we found ourselves
   * (never the ones others reported to us, or a dispute would echo forever).
   * @param {Assessment} assessment
   * @returns {{type: string, pairs: {peer: string, local: string, remote: string}[],
   *   mismatch: [string, string][]}}
   */
  frame(assessment) {
    const pairs = [...this.own].map(([peer, view]) => ({ peer, ...view }));
    pairs.sort((x, y) => (x.peer < y.peer ? -1 : 1));
    return { type: FRAME_TYPE, pairs, mismatch: assessment.found };
  }

  /**
   * @private What `a` says of its pair with `b`: ours first hand, or its report.
   * @param {string} a
   * @param {string} b
   * @returns {View|null}
   */
  viewOf(a, b) {
    if (a === this.self) return this.own.get(b) ?? null;
    return this.reports.get(a)?.views.get(b) ?? null;
  }

  /**
   * @private Do the two ends of a pair agree, and which fingerprints does it
   * add to the code? Ours are first hand; another pair's are taken from its
   * ends' reports.
   * @param {string} a
   * @param {string} b
   * @returns {{check: "agree"|"pending"|"mismatch", values: string[]|null}}
   */
  checkPair(a, b) {
    let va = this.viewOf(a, b);
    let vb = this.viewOf(b, a);
    if (b === this.self) [a, b, va, vb] = [b, a, vb, va];
    const mine = a === this.self;
    if (!va || !vb) {
      const only = mine ? va : va || vb;
      return { check: "pending", values: only ? [only.local, only.remote] : null };
    }
    if (va.local === vb.remote && va.remote === vb.local) {
      return { check: "agree", values: [va.local, va.remote] };
    }
    // A rebuilt pair has new certificates at both ends, and the two reports
    // cross on the way. An end still naming the other's earlier certificate,
    // while the other already names a new one of its, speaks of the earlier
    // connection: its next report is on the way. A certificate swapped in by
    // someone else was never either end's. Our own view is never stale.
    const aStale = !mine && this.usedBefore(b, a, va.remote, vb.local) && vb.remote !== va.local;
    const bStale = this.usedBefore(a, b, vb.remote, va.local) && va.remote !== vb.local;
    if (aStale || bStale) {
      const fresh = bStale ? va : vb;
      return { check: "pending", values: [fresh.local, fresh.remote] };
    }
    return { check: "mismatch", values: mine ? [va.local, va.remote] : [va.local, vb.local] };
  }

  /**
   * @private Whether `value` is a certificate `end` used on its pair with
   * `other` before the one it uses now (`current`).
   * @param {string} end
   * @param {string} other
   * @param {string} value
   * @param {string} current
   */
  usedBefore(end, other, value, current) {
    return value !== current && !!this.history.get(`${end}\n${other}`)?.includes(value);
  }

  /**
   * @private
   * @param {string} end
   * @param {string} other
   * @param {string} local
   */
  remember(end, other, local) {
    const key = `${end}\n${other}`;
    const seen = (this.history.get(key) ?? []).filter((value) => value !== local);
    seen.push(local);
    this.history.set(key, seen.slice(-HISTORY));
  }
}
