/**
 * The pre-join screen: the preview, its microphone and camera buttons, the
 * level meter, the name, and the Join button with what stops it.
 * @module
 */

import { byId, find, message, meter, pressed } from "./dom.js";

export class PrejoinView {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   */
  constructor(doc, t) {
    this.t = t;
    this.section = byId(doc, "prejoin");
    this.form = byId(doc, "prejoin-form");
    this.video = /** @type {HTMLVideoElement} */ (byId(doc, "preview-video"));
    this.box = byId(doc, "preview-box");
    this.off = byId(doc, "preview-off");
    this.mic = /** @type {HTMLButtonElement} */ (byId(doc, "prejoin-mic"));
    this.camera = /** @type {HTMLButtonElement} */ (byId(doc, "prejoin-camera"));
    this.level = byId(doc, "mic-level");
    this.notice = byId(doc, "media-notice");
    this.error = byId(doc, "prejoin-error");
    this.button = /** @type {HTMLButtonElement} */ (byId(doc, "join-button"));
    this.name = /** @type {HTMLInputElement} */ (byId(doc, "display-name"));
    /** @type {MediaStream|null} the local preview, shown again when coming back here */
    this.stream = null;
  }

  /** Whether Join is a "Try again" (the last attempt was refused). */
  get retrying() {
    return !!this.button.dataset.retry;
  }

  /**
   * Show the local preview and its buttons.
   * @param {MediaStream|null} stream
   * @param {{camera: boolean, muted: boolean, hasCamera: boolean, hasMic: boolean}} state
   */
  showPreview(stream, { camera, muted, hasCamera, hasMic }) {
    this.stream = stream;
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    this.box.dataset.camera = camera ? "on" : "off";
    this.off.textContent = hasCamera ? this.t.cameraPreviewOff : this.t.noCameraAvailable;
    this.mic.disabled = !hasMic;
    pressed(this.mic, muted, this.t.micOff, this.t.micOn);
    find(this.mic, "use").setAttribute("href", muted || !hasMic ? "#i-mic-off" : "#i-mic");
    this.camera.disabled = !hasCamera;
    pressed(this.camera, !camera, this.t.cameraOffLabel, this.t.cameraOnLabel);
    find(this.camera, "use").setAttribute("href", camera ? "#i-cam" : "#i-cam-off");
  }

  /**
   * Show the screen (with the preview again) or hide it.
   * @param {boolean} shown
   */
  setShown(shown) {
    this.section.hidden = !shown;
    this.video.srcObject = shown ? this.stream : null;
  }

  /**
   * The microphone level meter (0–1).
   * @param {number} level
   */
  setLevel(level) {
    meter(this.level, level);
  }

  /**
   * Explain a camera or microphone problem above the form (null hides it).
   * @param {string|null} text
   */
  setMediaNotice(text) {
    message(this.notice, text);
  }

  /**
   * An error above Join; with `retry`, Join becomes "Try again".
   * @param {string|null} text
   * @param {{retry?: boolean}} [options]
   */
  setError(text, { retry = false } = {}) {
    message(this.error, text);
    if (retry) this.button.dataset.retry = "1";
    else delete this.button.dataset.retry;
    this.button.textContent = retry ? this.t.retry : this.t.join;
    // On a phone the form is below the preview: bring the explanation into view.
    if (text) this.error.scrollIntoView({ block: "nearest" });
  }

  /**
   * Enable Join (or show it busy while joining, or waiting in the lobby).
   * @param {"ready"|"joining"|"waiting"} state
   */
  setJoinState(state) {
    this.button.disabled = state !== "ready";
    this.button.setAttribute("aria-busy", String(state !== "ready"));
    if (state === "joining") this.button.textContent = this.t.joining;
    else if (state === "waiting") this.button.textContent = this.t.lobbyWaitingButton;
    else this.button.textContent = this.retrying ? this.t.retry : this.t.join;
  }

  /** The name typed for this call. */
  get displayName() {
    return this.name.value.trim().slice(0, 50);
  }

  /** Keyboard users land on the main action. */
  focusJoin() {
    this.button.focus();
  }
}
