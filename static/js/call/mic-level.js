/**
 * The microphone level meter: the microphone in use feeds a Web Audio
 * analyser, read on each animation frame. No DOM.
 * @module
 */

/**
 * A meter reading (0–1) from one frame of samples (-1–1).
 * @param {Float32Array} samples
 * @returns {number}
 */
export function levelOf(samples) {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  const rms = Math.sqrt(sum / samples.length);
  // Speech sits around 0.01–0.3 RMS; a square root spreads it over the meter.
  return Math.min(1, Math.sqrt(rms * 4));
}

export class MicLevel {
  constructor() {
    /** @type {AudioContext|null} */
    this.context = null;
    /** @type {AnalyserNode|null} */
    this.analyser = null;
    /** @type {Float32Array<ArrayBuffer>|null} */
    this.samples = null;
    /** @type {MediaStreamAudioSourceNode|null} */
    this.source = null;
  }

  /**
   * Measure this microphone from now on (null: none).
   * @param {MediaStreamTrack|null} track
   */
  listen(track) {
    if (this.source) this.source.disconnect();
    this.source = null;
    if (!track || typeof AudioContext === "undefined") return;
    if (!this.context) this.context = new AudioContext();
    this.source = this.context.createMediaStreamSource(new MediaStream([track]));
    if (!this.analyser) {
      this.analyser = this.context.createAnalyser();
      this.analyser.fftSize = 512;
      this.samples = new Float32Array(this.analyser.fftSize);
    }
    this.source.connect(this.analyser);
  }

  /**
   * The level right now, 0 (silence, or nothing to measure) to 1.
   * @returns {number}
   */
  read() {
    if (!this.analyser || !this.context || !this.samples) return 0;
    // Created before any click, the context starts suspended; resume() works
    // once the page has had a user gesture.
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    this.analyser.getFloatTimeDomainData(this.samples);
    return levelOf(this.samples);
  }

  /** Release the audio context (leaving the call). */
  close() {
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
    this.analyser = null;
  }
}
