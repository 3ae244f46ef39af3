/**
 * The safety check of a call: keeps a `Ledger` (safety.js) current from the
 * call session — our own views read from each pair's negotiated descriptions,
 * the peers' `fingerprints` frames from their channels — sends our report when
 * it changes and on every channel that opens, and says where the check stands,
 * with the room code. No DOM: ui/safety-view.js renders the `change` events.
 * @module
 */

import { Ledger, roomCode, sdpFingerprints } from "./safety.js";

/** @typedef {import("./session.js").CallSession} CallSession */
/** @typedef {import("./session.js").Participant} Participant */
/** @typedef {import("./safety.js").View} View */
/** @typedef {import("./safety.js").Assessment} Assessment */
/** @typedef {import("./safety.js").SafetyStatus} SafetyStatus */

/**
 * What the page shows: where the check stands, the room code (null until
 * every fingerprint of the mesh is known) and the pairs in disagreement.
 * @typedef {{status: SafetyStatus, code: string|null, disputes: [string, string][]}} SafetyState
 */

/**
 * Our view of one connection: the fingerprints its current local and remote
 * descriptions name (null until a negotiation has completed on it).
 * @param {RTCPeerConnection|null|undefined} pc
 * @returns {View|null}
 */
export function connectionView(pc) {
  const local = sdpFingerprints(pc?.currentLocalDescription?.sdp);
  const remote = sdpFingerprints(pc?.currentRemoteDescription?.sdp);
  return local && remote ? { local, remote } : null;
}

/**
 * Follows a call session. Event: `change` with a `SafetyState` as `detail`,
 * whenever what the page should show changed.
 */
export class SafetyCheck extends EventTarget {
  /**
   * @param {object} options
   * @param {CallSession} options.session
   * @param {(data: Uint8Array) => Promise<ArrayBuffer>} [options.digest] SHA-256 (WebCrypto's by default)
   */
  constructor({ session, digest }) {
    super();
    this.session = session;
    this.digest = digest;
    this.ledger = new Ledger();
    /** The last report we sent, as sent. */
    this.sent = "";
    /** @type {SafetyState} */
    this.state = { status: "alone", code: null, disputes: [] };
    this.shown = JSON.stringify(this.state);
    this.round = 0;
    /** What the last round was computed from (the same assessment needs no new digest). */
    this.assessed = "";
    /**
     * @param {string} type
     * @param {(detail: any) => void} handle
     */
    const on = (type, handle) =>
      session.addEventListener(type, (event) => handle(/** @type {CustomEvent} */ (event).detail));
    on("participant-joined", ({ participant }) => this.watch(participant));
    on("participant-left", ({ participant }) => {
      this.ledger.forget(participant.id);
      this.update();
    });
    on("fingerprints", ({ participant, frame }) => {
      if (this.ledger.receive(participant.id, frame)) this.update();
    });
    on("phase", () => this.update());
  }

  /**
   * @private A new pair: our view of it changes with each negotiation (and a
   * rebuild), and an opened channel gets our report.
   * @param {Participant} participant
   */
  watch(participant) {
    const { pair } = participant;
    const current = () => this.session.roster.get(participant.id) === participant;
    const refresh = () => {
      if (current()) this.update();
    };
    pair.addEventListener("negotiated", refresh);
    pair.addEventListener("state", refresh);
    pair.addEventListener("channel-open", () => {
      // A changed report has just gone to every open channel, this one included.
      if (current() && !this.update() && this.sent) pair.sendData(this.sent);
    });
    this.update();
  }

  /**
   * Read our views, check the mesh, send our report if it changed, and
   * publish the outcome.
   * @returns {boolean} whether our report changed (and was broadcast)
   */
  update() {
    const { session } = this;
    if (this.ledger.self !== session.selfId) {
      // A new peer id: every pair starts over, and so does what we knew.
      this.ledger = new Ledger();
      this.ledger.self = session.selfId;
    }
    const ledger = this.ledger;
    for (const id of [...ledger.own.keys()]) if (!session.roster.has(id)) ledger.setOwn(id, null);
    for (const participant of session.roster.values()) {
      ledger.setOwn(participant.id, connectionView(participant.pair.pc));
    }
    const assessment = ledger.assess(session.inCall ? [...session.roster.keys()] : []);
    const frame = JSON.stringify(ledger.frame(assessment));
    const changed = frame !== this.sent && ledger.self !== null;
    if (changed) {
      this.sent = frame;
      session.mesh.broadcast(frame);
    }
    this.publish(assessment);
    return changed;
  }

  /**
   * @private The code needs a digest, which is asynchronous: only the latest
   * round is shown.
   * @param {Assessment} assessment
   */
  async publish(assessment) {
    const assessed = JSON.stringify([
      assessment.status,
      assessment.fingerprints,
      assessment.disputes,
    ]);
    if (assessed === this.assessed) return;
    this.assessed = assessed;
    const round = ++this.round;
    let code = null;
    if (assessment.fingerprints) {
      try {
        code = await roomCode(assessment.fingerprints, this.digest);
      } catch (error) {
        // No WebCrypto (not a secure context): the check still warns.
        console.warn("meet: could not compute the security code", error);
      }
    }
    if (round !== this.round) return;
    /** @type {SafetyState} */
    const state = { status: assessment.status, code, disputes: assessment.disputes };
    const shown = JSON.stringify(state);
    if (shown === this.shown) return;
    this.shown = shown;
    this.state = state;
    this.dispatchEvent(new CustomEvent("change", { detail: state }));
  }
}
