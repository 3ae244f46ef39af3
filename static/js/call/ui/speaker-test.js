/**
 * "Test speaker" on the pre-join screen: a short chime played through the
 * speaker chosen for the call (HTMLMediaElement.setSinkId where the browser
 * has it), so people hear whether sound works before they join.
 * @module
 */

import { byId } from "./dom.js";

/** How long the chime plays (s). */
const CHIME_S = 1.2;

export class SpeakerTest {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{sinkId: () => string}} options the speaker in use ("" for the default)
   */
  constructor(doc, t, { sinkId }) {
    this.t = t;
    this.sinkId = sinkId;
    this.button = /** @type {HTMLButtonElement} */ (byId(doc, "speaker-test"));
    this.status = byId(doc, "speaker-test-status");
    this.audio = /** @type {HTMLAudioElement} */ (byId(doc, "speaker-test-audio"));
    this.button.textContent = t.testSpeaker;
    this.button.addEventListener("click", () => this.play());
    /** @type {AudioContext|null} */
    this.context = null;
  }

  /** Whether the chime is playing. */
  get playing() {
    return this.button.dataset.playing === "true";
  }

  /** Play the chime once (a press while it plays does nothing). */
  async play() {
    if (this.playing || typeof AudioContext === "undefined") return;
    this.setPlaying(true);
    try {
      // Created on the click, so the browser lets it start right away.
      this.context ||= new AudioContext();
      const context = this.context;
      await context.resume();
      const destination = context.createMediaStreamDestination();
      const gain = context.createGain();
      gain.connect(destination);
      const start = context.currentTime;
      // Two soft notes, fading in and out: a chime, not a beep.
      for (const [offset, frequency] of [
        [0, 660],
        [CHIME_S / 2, 880],
      ]) {
        const tone = context.createOscillator();
        tone.frequency.value = frequency;
        tone.connect(gain);
        tone.start(start + offset);
        tone.stop(start + offset + CHIME_S / 2);
      }
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.3, start + 0.05);
      gain.gain.setValueAtTime(0.3, start + CHIME_S - 0.15);
      gain.gain.linearRampToValueAtTime(0, start + CHIME_S);
      const sink = this.sinkId();
      if ("setSinkId" in this.audio && this.audio.sinkId !== sink) {
        await this.audio.setSinkId(sink);
      }
      this.audio.srcObject = destination.stream;
      await this.audio.play();
      await new Promise((resolve) => setTimeout(resolve, CHIME_S * 1000));
      this.setPlaying(false);
    } catch (error) {
      console.warn("meet: the test sound could not be played", error);
      this.setPlaying(false, this.t.testSpeakerFailed);
    } finally {
      this.audio.pause();
      this.audio.srcObject = null;
    }
  }

  /**
   * @private
   * @param {boolean} playing
   * @param {string} [problem]
   */
  setPlaying(playing, problem = "") {
    this.button.dataset.playing = String(playing);
    this.button.disabled = playing;
    this.status.textContent = playing ? this.t.testSpeakerPlaying : problem;
  }

  /** Leaving the pre-join screen: release the audio context. */
  close() {
    this.context?.close().catch(() => {});
    this.context = null;
  }
}
