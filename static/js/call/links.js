/**
 * The sampler: while the call is live, one `getStats()` per connected pair
 * about once a second. Each pair's figures and grade (health.js) go on its
 * roster entry (`participant.link`); the audio levels of the same reports
 * say who is speaking (speaker.js). No DOM; the page renders the events.
 * @module
 */

import { gradeLink, linkFigures, readStats } from "./health.js";
import { Silences } from "./silence.js";
import { SpeakerDetector } from "./speaker.js";

/** @typedef {import("./session.js").CallSession} CallSession */
/** @typedef {import("./session.js").Participant} Participant */
/** @typedef {import("./health.js").Snapshot} Snapshot */
/** @typedef {import("./health.js").LinkFigures} LinkFigures */
/** @typedef {import("./health.js").Grade} Grade */

/**
 * What `participant.link` holds once its pair is measured.
 * `silent`: what should come from them and does not; `repair`: the step
 * under way for it (silence.js).
 * @typedef {{grade: Grade|null, figures: LinkFigures,
 *   silent?: import("./silence.js").Kind[],
 *   repair?: import("./silence.js").RepairStep|null}} LinkHealth
 */

/** How often each pair is sampled (ms). */
export const SAMPLE_INTERVAL_MS = 1000;
/** The id the speaker events use for ourselves (our own tile). */
export const SELF_SPEAKER = "self";

/**
 * Samples every pair of a call.
 *
 * Events: `link` (`{participant}`: its `link` changed; null while the pair is
 * not connected) and `speaker` (`{id}`: a participant id, `SELF_SPEAKER`, or
 * null for nobody).
 */
export class LinkMonitor extends EventTarget {
  /**
   * @param {object} options
   * @param {CallSession} options.session
   * @param {number} [options.interval] ms between two rounds
   * @param {() => number} [options.now] the clock (ms)
   * @param {SpeakerDetector} [options.speakers]
   */
  constructor({
    session,
    interval = SAMPLE_INTERVAL_MS,
    now = () => performance.now(),
    speakers = new SpeakerDetector(),
  }) {
    super();
    this.session = session;
    this.interval = interval;
    this.now = now;
    this.speakers = speakers;
    /** Silent directions and their repair. */
    this.silences = new Silences();
    session.addEventListener("participant-left", (event) => {
      this.silences.forget(/** @type {CustomEvent} */ (event).detail.participant.id);
    });
    /** @type {string|null} */
    this.speaker = null;
    /** The last snapshot of each connection (a rebuilt pair starts afresh). */
    this.previous = /** @type {WeakMap<RTCPeerConnection, Snapshot>} */ (new WeakMap());
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    this.running = false;
    session.addEventListener("phase", () => {
      if (session.inCall) this.start();
      else this.stop();
    });
  }

  /** Sample from now on (the call started). */
  start() {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stop sampling (the call ended on this page). */
  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.setSpeaker(null);
  }

  /** @private */
  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      await this.sample();
      if (this.running) this.schedule();
    }, this.interval);
  }

  /**
   * One round: every connected pair once, then who is speaking.
   * @returns {Promise<void>}
   */
  async sample() {
    /** @type {Map<string, number|null>} */
    const levels = new Map();
    const participants = [...this.session.roster.values()];
    const sent = await Promise.all(participants.map((p) => this.samplePair(p, levels)));
    if (!this.running) return;
    const mine = sent.find((level) => level !== null) ?? null;
    levels.set(SELF_SPEAKER, this.session.me.muted ? null : mine);
    this.setSpeaker(this.speakers.update(levels, this.now()));
  }

  /**
   * @private
   * @param {Participant} participant
   * @param {Map<string, number|null>} levels where its audio level goes
   * @returns {Promise<number|null>} our own microphone's level, as this pair sent it
   */
  async samplePair(participant, levels) {
    const pc = participant.pair.pc;
    if (pc?.connectionState !== "connected") {
      this.setLink(participant, null);
      return null;
    }
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return null; // closed meanwhile
    }
    if (this.session.roster.get(participant.id) !== participant) return null;
    const snapshot = readStats(report);
    const previous = this.previous.get(pc) ?? null;
    this.previous.set(pc, snapshot);
    const figures = linkFigures(previous, snapshot);
    const { state } = participant;
    const { silent, repair } = this.silences.sample(
      participant.id,
      participant.pair,
      snapshot,
      state,
      this.now(),
    );
    let grade = previous ? gradeLink(figures, { video: state.camera || state.screen }) : null;
    if (silent.length > 0) grade = "bad";
    levels.set(participant.id, state.muted ? null : figures.audioLevel);
    this.setLink(participant, { grade, figures, silent, repair });
    return figures.sentLevel;
  }

  /**
   * @private
   * @param {Participant} participant
   * @param {LinkHealth|null} link
   */
  setLink(participant, link) {
    if (link === null && participant.link === null) return;
    participant.link = link;
    this.dispatchEvent(new CustomEvent("link", { detail: { participant } }));
  }

  /**
   * @private
   * @param {string|null} id
   */
  setSpeaker(id) {
    if (id === this.speaker) return;
    this.speaker = id;
    this.dispatchEvent(new CustomEvent("speaker", { detail: { id } }));
  }
}
