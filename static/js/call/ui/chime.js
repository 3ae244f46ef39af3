/**
 * A short chime of soft notes, played through the speaker chosen for the call
 * (an audio element with HTMLMediaElement.setSinkId where the browser has
 * it): the pre-join "Test speaker" and the knock a host hears when someone
 * waits in the lobby.
 * @module
 */

/** @typedef {[offset: number, frequency: number]} Note start (s from now) and pitch (Hz) */

/** The speaker test: two notes rising. */
export const TEST_NOTES = /** @type {Note[]} */ ([
  [0, 660],
  [0.6, 880],
]);

/** A knock: two short notes falling, like a doorbell. */
export const KNOCK_NOTES = /** @type {Note[]} */ ([
  [0, 880],
  [0.25, 660],
]);

export class Chime {
  /**
   * @param {HTMLAudioElement} audio the element the chime plays through
   * @param {() => string} sinkId the speaker in use ("" for the default)
   */
  constructor(audio, sinkId) {
    this.audio = audio;
    this.sinkId = sinkId;
    /** @type {AudioContext|null} */
    this.context = null;
    this.playing = false;
  }

  /**
   * Play `notes`, each `note` seconds long, fading in and out; resolves when
   * it has played. A call while one plays does nothing. Throws where the
   * browser cannot play it.
   * @param {Note[]} notes
   * @param {number} note
   */
  async play(notes, note) {
    if (this.playing || typeof AudioContext === "undefined") return;
    this.playing = true;
    try {
      this.context ||= new AudioContext();
      const context = this.context;
      await context.resume();
      const destination = context.createMediaStreamDestination();
      const gain = context.createGain();
      gain.connect(destination);
      const start = context.currentTime;
      const end = Math.max(...notes.map(([offset]) => offset)) + note;
      for (const [offset, frequency] of notes) {
        const tone = context.createOscillator();
        tone.frequency.value = frequency;
        tone.connect(gain);
        tone.start(start + offset);
        tone.stop(start + offset + note);
      }
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.3, start + 0.05);
      gain.gain.setValueAtTime(0.3, start + end - 0.15);
      gain.gain.linearRampToValueAtTime(0, start + end);
      const sink = this.sinkId();
      if ("setSinkId" in this.audio && this.audio.sinkId !== sink) {
        await this.audio.setSinkId(sink);
      }
      this.audio.srcObject = destination.stream;
      await this.audio.play();
      await new Promise((resolve) => setTimeout(resolve, end * 1000));
    } finally {
      this.playing = false;
      this.audio.pause();
      this.audio.srcObject = null;
    }
  }

  /** Release the audio context. */
  close() {
    this.context?.close().catch(() => {});
    this.context = null;
  }
}
