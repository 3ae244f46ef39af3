/**
 * "Test speaker" on the pre-join screen: a short chime (chime.js) played
 * through the speaker chosen for the call, so people hear whether sound
 * works before they join.
 * @module
 */

import { Chime, TEST_NOTES } from "./chime.js";
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
    this.chime = new Chime(this.audio, sinkId);
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
      // Played on the click, so the browser lets it start right away.
      await this.chime.play(TEST_NOTES, CHIME_S / 2);
      this.setPlaying(false);
    } catch (error) {
      console.warn("meet: the test sound could not be played", error);
      this.setPlaying(false, this.t.testSpeakerFailed);
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
    this.chime.close();
  }
}
