/**
 * Local media: the camera and microphone (opened once, for the preview and
 * the call), which tracks we send, muting, camera off, device switching and
 * a device that goes away, and screen sharing. Opening devices is in
 * devices.js, the level meter in mic-level.js, the screen picker in
 * screen-share.js. No DOM.
 * @module
 */

import {
  audioConstraints,
  listDevices,
  openCameraAndMicrophone,
  problemOf,
  switchDevice,
  videoConstraints,
} from "./devices.js";
import { MicLevel } from "./mic-level.js";
import { canShareScreen, openScreen } from "./screen-share.js";

/** @typedef {import("./devices.js").MediaProblem} MediaProblem */
/** @typedef {import("./devices.js").DeviceLists} DeviceLists */

/**
 * The browser's getUserMedia, looked up at each call (tests replace it).
 * @param {MediaStreamConstraints} constraints
 */
const getUserMedia = (constraints) => navigator.mediaDevices.getUserMedia(constraints);

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
    this.meter = new MicLevel();
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
    return canShareScreen();
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
    const { streams, problem } = await openCameraAndMicrophone(getUserMedia, {
      audio: audioConstraints(audioId),
      video: videoConstraints(this.videoConstraints, videoId),
    });
    for (const stream of streams) {
      for (const track of stream.getTracks()) {
        if (track.kind === "audio") this.setAudio(track);
        else this.setCamera(track);
      }
    }
    return problem;
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
    this.meter.listen(this.audio);
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
        const stream = await getUserMedia({
          video: videoConstraints(this.videoConstraints, this.videoId),
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
      return this.switchTo("video", deviceId);
    });
  }

  /**
   * Switch to another microphone (still muted if it was). On failure the
   * microphone in use stays.
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  useMicrophone(deviceId) {
    return this.serial("audio", () => this.switchTo("audio", deviceId));
  }

  /**
   * @private Replace the camera or microphone with another device (devices.js
   * `switchDevice`: on failure the one in use stays).
   * @param {"audio"|"video"} kind
   * @param {string} deviceId
   * @returns {Promise<MediaProblem>}
   */
  async switchTo(kind, deviceId) {
    if (!LocalMedia.supported) return "unsupported";
    return switchDevice({
      current: kind === "audio" ? this.audio : this.camera,
      deviceId,
      open: async (id) => {
        const constraints = {
          [kind]:
            kind === "audio"
              ? audioConstraints(id, true)
              : videoConstraints(this.videoConstraints, id, true),
        };
        return (await getUserMedia(constraints)).getTracks()[0];
      },
      install: (track) => (kind === "audio" ? this.setAudio(track) : this.setCamera(track)),
    });
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
        const stream = await getUserMedia({ audio: audioConstraints("") });
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
    const { track, problem } = await openScreen();
    if (!track) return problem;
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
   * @returns {Promise<DeviceLists>}
   */
  devices() {
    return listDevices(navigator.mediaDevices);
  }

  /**
   * The microphone level right now, 0 (silence or muted) to 1.
   * @returns {number}
   */
  level() {
    return !this.audio || this.muted ? 0 : this.meter.read();
  }

  /** Stop every track (leaving the call). */
  stop() {
    this.stopped = true;
    for (const track of [this.audio, this.camera, this.screen]) if (track) track.stop();
    this.audio = this.camera = this.screen = null;
    this.meter.close();
  }
}
