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
 * @param {unknown} error
 * @returns {MediaProblem}
 */
export function problemOf(error) {
  switch (error instanceof Error || error instanceof DOMException ? error.name : "") {
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
 * - `lost`: `detail` `{kind, track}`: the camera or microphone in use stopped on
 *   its own (unplugged); for the microphone, `track` is the one now used
 *   instead (null if none could be opened).
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
    /** @type {AnalyserNode|null} */
    this.analyser = null;
    /** @type {AudioContext|null} */
    this.audioContext = null;
    /** @type {Float32Array<ArrayBuffer>|null} */
    this.levelData = null;
    /** @type {MediaStreamAudioSourceNode|null} */
    this.source = null;
    /** Camera and microphone changes run one at a time, in the order asked. */
    this.queues = { audio: Promise.resolve(), video: Promise.resolve() };
    /** Set when leaving the call: nothing is opened any more. */
    this.stopped = false;
    if (navigator.mediaDevices?.addEventListener) {
      navigator.mediaDevices.addEventListener("devicechange", () =>
        this.dispatchEvent(new Event("devices")),
      );
    }
  }

  /** Whether this page can use getUserMedia at all (needs a secure context). */
  static get supported() {
    return !!navigator.mediaDevices?.getUserMedia;
  }

  /** Whether screen sharing is possible in this browser. */
  static get canShareScreen() {
    return !!navigator.mediaDevices?.getDisplayMedia;
  }

  /**
   * @private
   * @param {string} deviceId
   * @returns {MediaTrackConstraints}
   */
  audioRequest(deviceId, exact = false) {
    /** @type {MediaTrackConstraints} */
    const constraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (deviceId) constraints.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
    return constraints;
  }

  /**
   * @private
   * @param {string} deviceId
   * @returns {MediaTrackConstraints}
   */
  videoRequest(deviceId, exact = false) {
    /** @type {MediaTrackConstraints} */
    const constraints = { ...this.videoConstraints };
    if (deviceId) constraints.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
    return constraints;
  }

  /**
   * @private
   * @param {"audio"|"video"} kind
   * @param {string} deviceId
   */
  request(kind, deviceId, exact = false) {
    return kind === "audio"
      ? this.audioRequest(deviceId, exact)
      : this.videoRequest(deviceId, exact);
  }

  /**
   * @private Run `task` after every earlier change of the same kind finished,
   * so that, say, "camera off" pressed during a camera switch applies to the
   * new camera instead of racing it.
   * @template T
   * @param {"audio"|"video"} kind
   * @param {() => Promise<T>} task
   * @returns {Promise<T>}
   */
  serial(kind, task) {
    const run = this.queues[kind].then(task);
    this.queues[kind] = run.then(
      () => {},
      () => {},
    );
    return run;
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
        return problemOf(/** @type {PromiseRejectedResult} */ (video).reason) === "busy"
          ? "busy"
          : "no-camera";
      }
      const audioProblem = problemOf(/** @type {PromiseRejectedResult} */ (audio).reason);
      if (video.status === "fulfilled") {
        return audioProblem === "busy" ? "busy" : "no-microphone";
      }
      return audioProblem === "denied" ? "denied" : problem;
    }
  }

  /**
   * @private Take the tracks of a getUserMedia stream as ours.
   * @param {MediaStream} stream
   */
  adopt(stream) {
    for (const track of stream.getTracks()) {
      if (track.kind === "audio") this.setAudio(track);
      else this.setCamera(track);
    }
  }

  /**
   * @private
   * @param {MediaStreamTrack|null} track
   */
  setAudio(track) {
    // A device that finished opening after the call was left is not kept.
    if (this.stopped && track) {
      track.stop();
      return;
    }
    const old = this.audio;
    this.audio = track;
    if (track) {
      track.enabled = !this.muted;
      this.audioId = track.getSettings().deviceId || "";
      this.preview.addTrack(track);
      // An unplugged microphone ends its track: carry on with the default one.
      track.addEventListener("ended", () => {
        if (this.audio === track) this.microphoneLost(track);
      });
    }
    if (old) {
      this.preview.removeTrack(old);
      old.stop();
    }
    this.hookAnalyser();
    this.emitTrack("audio");
  }

  /**
   * @private
   * @param {MediaStreamTrack|null} track
   */
  setCamera(track) {
    if (this.stopped && track) {
      track.stop();
      return;
    }
    const old = this.camera;
    this.camera = track;
    if (track) {
      this.videoId = track.getSettings().deviceId || this.videoId;
      this.preview.addTrack(track);
      // A camera unplugged mid-call ends its track: show it as "camera off".
      track.addEventListener("ended", () => {
        if (this.camera !== track) return;
        this.setCamera(null);
        this.dispatchEvent(new CustomEvent("lost", { detail: { kind: "video", track: null } }));
      });
    }
    // The old camera stops once the new one is in place: its light goes out.
    if (old) {
      this.preview.removeTrack(old);
      old.stop();
    }
    if (!this.screen) this.emitTrack("video");
  }

  /**
   * @private
   * @param {"audio"|"video"} kind
   */
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
  setCameraOn(on) {
    return this.serial("video", async () => {
      if (!on) {
        if (this.camera) this.setCamera(null);
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
    });
  }

  /**
   * Switch to another camera. With the camera off (or showing a shared
   * screen's place) the choice is only recorded for when it is turned on.
   * On failure the camera in use stays.
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  useCamera(deviceId) {
    return this.serial("video", async () => {
      if (!this.cameraOn) {
        this.videoId = deviceId;
        return null;
      }
      return this.switchDevice("video", deviceId);
    });
  }

  /**
   * Switch to another microphone (still muted if it was). On failure the
   * microphone in use stays.
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  useMicrophone(deviceId) {
    return this.serial("audio", () => this.switchDevice("audio", deviceId));
  }

  /**
   * @private Replace the camera or microphone with another device. The new
   * one is opened while the old one still runs, so a failure leaves
   * everything as it was, and peers get the new track (replaceTrack, through
   * the `track` event) before the old one stops. Phones often cannot open a
   * second camera at once ("busy"): then the old device is released first,
   * and opened again if the new one still fails.
   * @param {"audio"|"video"} kind
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  async switchDevice(kind, deviceId) {
    if (!LocalMedia.supported) return "unsupported";
    const current = kind === "audio" ? this.audio : this.camera;
    if (current && current.readyState === "live" && current.getSettings().deviceId === deviceId) {
      return null;
    }
    /** @param {MediaStreamTrack|null} track */
    const install = (track) => (kind === "audio" ? this.setAudio(track) : this.setCamera(track));
    /** @param {string} id */
    const open = async (id) => {
      const constraints = { [kind]: this.request(kind, id, true) };
      return (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0];
    };
    let problem;
    try {
      install(await open(deviceId));
      return null;
    } catch (error) {
      problem = problemOf(error);
      if (problem !== "busy" || !current) return problem;
    }
    const previous = current.getSettings().deviceId;
    current.stop();
    try {
      install(await open(deviceId));
      return null;
    } catch (error) {
      problem = problemOf(error);
    }
    try {
      install(await open(previous || ""));
    } catch {
      install(null);
    }
    return problem;
  }

  /**
   * @private The microphone in use ended on its own: open the default one.
   * @param {MediaStreamTrack} track
   */
  microphoneLost(track) {
    this.serial("audio", async () => {
      if (this.audio !== track) return;
      let replacement = null;
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioRequest("") });
        replacement = stream.getAudioTracks()[0];
      } catch {
        // No microphone left: the call goes on without one.
      }
      if (this.audio !== track) {
        if (replacement) replacement.stop();
        return;
      }
      this.setAudio(replacement);
      const detail = { kind: "audio", track: replacement };
      this.dispatchEvent(new CustomEvent("lost", { detail }));
    });
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
    /** @type {Record<"audioinput"|"videoinput"|"audiooutput", MediaDeviceInfo[]>} */
    const lists = { audioinput: [], videoinput: [], audiooutput: [] };
    if (!navigator.mediaDevices?.enumerateDevices) return lists;
    for (const device of await navigator.mediaDevices.enumerateDevices()) {
      if (device.kind in lists && device.deviceId) lists[device.kind].push(device);
    }
    return lists;
  }

  /** @private Feed the microphone into an analyser for the level meter. */
  hookAnalyser() {
    if (this.source) this.source.disconnect();
    this.source = null;
    if (!this.audio || typeof AudioContext === "undefined") return;
    if (!this.audioContext) this.audioContext = new AudioContext();
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
    if (!this.analyser || !this.audioContext || !this.levelData || !this.audio || this.muted) {
      return 0;
    }
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
    this.stopped = true;
    for (const track of [this.audio, this.camera, this.screen]) if (track) track.stop();
    this.audio = this.camera = this.screen = null;
    if (this.audioContext) this.audioContext.close().catch(() => {});
    this.audioContext = null;
    this.analyser = null;
  }
}
