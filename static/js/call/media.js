/**
 * Local media: the camera and microphone (opened once, for the preview and
 * the call), device lists and switching, the microphone level, camera off,
 * and screen sharing. No DOM.
 * @module
 */

/**
 * Why local media could not (fully) start, for the pre-join explanation.
 * @typedef {null|"unsupported"|"denied"|"no-devices"|"no-camera"|"no-microphone"|"busy"|"failed"} MediaProblem
 */

/**
 * Map a getUserMedia error to a problem name.
 * @param {Error} error
 * @returns {MediaProblem}
 */
export function problemOf(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "no-devices";
    case "NotReadableError":
    case "AbortError":
      return "busy";
    default:
      return "failed";
  }
}

/**
 * The camera, microphone and screen of this browser.
 *
 * Events:
 * - `track`: `detail` `{kind, track}`: what we send as `kind` changed (track may be null).
 * - `screen`: `detail` `{on}`: screen sharing started or stopped (also from the browser's own bar).
 * - `devices`: the list of devices changed.
 */
export class LocalMedia extends EventTarget {
  /**
   * @param {{video: MediaTrackConstraints}} options ideal camera constraints
   */
  constructor({ video }) {
    super();
    this.videoConstraints = video;
    /** @type {MediaStreamTrack|null} */
    this.audio = null;
    /** @type {MediaStreamTrack|null} the camera (null when off or absent) */
    this.camera = null;
    /** @type {MediaStreamTrack|null} */
    this.screen = null;
    this.muted = false;
    this.audioId = "";
    this.videoId = "";
    /** Preview stream for the self view: the current audio and camera tracks. */
    this.preview = new MediaStream();
    this.analyser = null;
    this.audioContext = null;
    this.levelData = null;
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener("devicechange", () =>
        this.dispatchEvent(new Event("devices")),
      );
    }
  }

  /** Whether this page can use getUserMedia at all (needs a secure context). */
  static get supported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  /** Whether screen sharing is possible in this browser. */
  static get canShareScreen() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  }

  /** @private */
  audioRequest(deviceId, exact = false) {
    const constraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (deviceId) constraints.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
    return constraints;
  }

  /** @private */
  videoRequest(deviceId, exact = false) {
    const constraints = { ...this.videoConstraints };
    if (deviceId) constraints.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
    return constraints;
  }

  /**
   * Open the camera and microphone once (preferred devices if still present).
   * Whatever can be opened is kept: a missing camera still gives audio.
   * @param {{audioId?: string, videoId?: string}} [preferred]
   * @returns {Promise<MediaProblem>} null when both started
   */
  async start({ audioId = "", videoId = "" } = {}) {
    if (!LocalMedia.supported) return "unsupported";
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: this.audioRequest(audioId),
        video: this.videoRequest(videoId),
      });
      this.adopt(stream);
      return null;
    } catch (error) {
      const problem = problemOf(error);
      if (problem === "denied") return problem;
      // One of the two may still work on its own (no camera, busy camera...).
      const [audio, video] = await Promise.allSettled([
        navigator.mediaDevices.getUserMedia({ audio: this.audioRequest(audioId) }),
        navigator.mediaDevices.getUserMedia({ video: this.videoRequest(videoId) }),
      ]);
      if (audio.status === "fulfilled") this.adopt(audio.value);
      if (video.status === "fulfilled") this.adopt(video.value);
      if (audio.status === "fulfilled" && video.status === "fulfilled") return null;
      if (audio.status === "fulfilled") {
        return problemOf(video.reason) === "busy" ? "busy" : "no-camera";
      }
      if (video.status === "fulfilled") {
        return problemOf(audio.reason) === "busy" ? "busy" : "no-microphone";
      }
      return problemOf(audio.reason) === "denied" ? "denied" : problem;
    }
  }

  /** @private Take the tracks of a getUserMedia stream as ours. */
  adopt(stream) {
    for (const track of stream.getTracks()) {
      if (track.kind === "audio") this.setAudio(track);
      else this.setCamera(track);
    }
  }

  /** @private */
  setAudio(track) {
    if (this.audio) {
      this.preview.removeTrack(this.audio);
      this.audio.stop();
    }
    this.audio = track;
    if (!track) return;
    track.enabled = !this.muted;
    this.audioId = track.getSettings().deviceId || "";
    this.preview.addTrack(track);
    this.hookAnalyser();
    this.emitTrack("audio");
  }

  /** @private */
  setCamera(track) {
    if (this.camera) {
      this.preview.removeTrack(this.camera);
      this.camera.stop();
    }
    this.camera = track;
    if (track) {
      this.videoId = track.getSettings().deviceId || this.videoId;
      this.preview.addTrack(track);
      // A camera unplugged mid-call ends its track: show it as "camera off".
      track.addEventListener("ended", () => {
        if (this.camera === track) this.setCamera(null);
      });
    }
    if (!this.screen) this.emitTrack("video");
  }

  /** @private */
  emitTrack(kind) {
    this.dispatchEvent(new CustomEvent("track", { detail: { kind, track: this.sending()[kind] } }));
  }

  /**
   * What we send to peers right now.
   * @returns {{audio: MediaStreamTrack|null, video: MediaStreamTrack|null}}
   */
  sending() {
    return { audio: this.audio, video: this.screen || this.camera };
  }

  /** Whether the camera is on. */
  get cameraOn() {
    return !!this.camera && this.camera.readyState === "live";
  }

  /**
   * Mute or unmute the microphone (the track stays open so unmuting is instant;
   * a muted track sends silence).
   * @param {boolean} muted
   */
  setMuted(muted) {
    this.muted = muted;
    if (this.audio) this.audio.enabled = !muted;
  }

  /**
   * Turn the camera off (the track is stopped: the light goes out and nothing
   * is sent) or on again (a new getUserMedia for video only).
   * @param {boolean} on
   * @returns {Promise<MediaProblem>}
   */
  async setCameraOn(on) {
    if (!on) {
      this.setCamera(null);
      return null;
    }
    if (this.cameraOn) return null;
    if (!LocalMedia.supported) return "unsupported";
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: this.videoRequest(this.videoId),
      });
      this.setCamera(stream.getVideoTracks()[0]);
      return null;
    } catch (error) {
      return problemOf(error);
    }
  }

  /**
   * Switch to another camera (only opens it if the camera is on).
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  async useCamera(deviceId) {
    this.videoId = deviceId;
    if (!this.cameraOn) return null;
    // Stop the old camera first: many phones cannot open two at once.
    this.setCamera(null);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: this.videoRequest(deviceId, true),
      });
      this.setCamera(stream.getVideoTracks()[0]);
      return null;
    } catch (error) {
      return problemOf(error);
    }
  }

  /**
   * Switch to another microphone.
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  async useMicrophone(deviceId) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: this.audioRequest(deviceId, true),
      });
      this.setAudio(stream.getAudioTracks()[0]);
      return null;
    } catch (error) {
      return problemOf(error);
    }
  }

  /**
   * Share a screen or window instead of the camera.
   * @returns {Promise<MediaProblem>} "denied" when the person cancelled the picker
   */
  async startScreen() {
    if (!LocalMedia.canShareScreen) return "unsupported";
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 15 } },
        audio: false,
      });
    } catch (error) {
      return problemOf(error);
    }
    const track = stream.getVideoTracks()[0];
    if ("contentHint" in track) track.contentHint = "detail";
    // `ended` fires when sharing is stopped from the browser's own bar.
    track.addEventListener("ended", () => {
      if (this.screen === track) this.stopScreen();
    });
    if (this.screen) this.screen.stop();
    this.screen = track;
    this.emitTrack("video");
    this.dispatchEvent(new CustomEvent("screen", { detail: { on: true } }));
    return null;
  }

  /** Stop sharing and send the camera again (if it is on). */
  stopScreen() {
    if (!this.screen) return;
    const track = this.screen;
    this.screen = null;
    track.stop();
    this.emitTrack("video");
    this.dispatchEvent(new CustomEvent("screen", { detail: { on: false } }));
  }

  /**
   * Cameras, microphones and speakers (labels appear once permission was given).
   * @returns {Promise<{audioinput: MediaDeviceInfo[], videoinput: MediaDeviceInfo[], audiooutput: MediaDeviceInfo[]}>}
   */
  async devices() {
    const lists = { audioinput: [], videoinput: [], audiooutput: [] };
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return lists;
    for (const device of await navigator.mediaDevices.enumerateDevices()) {
      if (device.kind in lists && device.deviceId) lists[device.kind].push(device);
    }
    return lists;
  }

  /** @private Feed the microphone into an analyser for the level meter. */
  hookAnalyser() {
    if (!this.audio || typeof AudioContext === "undefined") return;
    if (!this.audioContext) this.audioContext = new AudioContext();
    if (this.source) this.source.disconnect();
    this.source = this.audioContext.createMediaStreamSource(new MediaStream([this.audio]));
    if (!this.analyser) {
      this.analyser = this.audioContext.createAnalyser();
      this.analyser.fftSize = 512;
      this.levelData = new Float32Array(this.analyser.fftSize);
    }
    this.source.connect(this.analyser);
  }

  /**
   * The microphone level right now, 0 (silence or muted) to 1.
   * @returns {number}
   */
  level() {
    if (!this.analyser || !this.audio || this.muted) return 0;
    // Created before any click, the context starts suspended; resume() works
    // once the page has had a user gesture.
    if (this.audioContext.state === "suspended") this.audioContext.resume().catch(() => {});
    this.analyser.getFloatTimeDomainData(this.levelData);
    let sum = 0;
    for (const sample of this.levelData) sum += sample * sample;
    const rms = Math.sqrt(sum / this.levelData.length);
    // Speech sits around 0.01–0.3 RMS; a square root spreads it over the meter.
    return Math.min(1, Math.sqrt(rms * 4));
  }

  /** Stop every track (leaving the call). */
  stop() {
    for (const track of [this.audio, this.camera, this.screen]) if (track) track.stop();
    this.audio = this.camera = this.screen = null;
    if (this.audioContext) this.audioContext.close().catch(() => {});
    this.audioContext = null;
    this.analyser = null;
  }
}
