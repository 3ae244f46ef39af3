/**
 * Stand-ins for the browser's cameras and microphones, for the media modules
 * under `node --test`: device tracks that can be stopped or unplugged, and a
 * `mediaDevices` whose getUserMedia picks devices the way Chromium does
 * (`exact` or nothing, `ideal` or the first one) and can be told to refuse a
 * device, a kind, or everything.
 */

let nextTrack = 1;

export class FakeDeviceTrack extends EventTarget {
  /**
   * @param {"audio"|"video"} kind
   * @param {string} deviceId
   */
  constructor(kind, deviceId) {
    super();
    this.kind = kind;
    this.deviceId = deviceId;
    this.id = `${kind}-${nextTrack++}`;
    /** @type {"live"|"ended"} */
    this.readyState = "live";
    this.enabled = true;
    /** @type {string} */
    this.contentHint = "";
  }
  getSettings() {
    return { deviceId: this.deviceId };
  }
  /** Stopped by the page: no `ended` event, as in browsers. */
  stop() {
    this.readyState = "ended";
  }
  /** Unplugged (or stopped from the browser's own bar): `ended` fires. */
  unplug() {
    this.readyState = "ended";
    this.dispatchEvent(new Event("ended"));
  }
}

export class FakeStream {
  /** @param {any[]} [tracks] */
  constructor(tracks = []) {
    this.tracks = [...tracks];
  }
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === "audio");
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === "video");
  }
  /** @param {any} track */
  addTrack(track) {
    if (!this.tracks.includes(track)) this.tracks.push(track);
  }
  /** @param {any} track */
  removeTrack(track) {
    this.tracks = this.tracks.filter((t) => t !== track);
  }
}

/** @param {string} name */
const refusal = (name) => new DOMException("refused by the test", name);

export class FakeMediaDevices extends EventTarget {
  /** @param {{audio?: string[], video?: string[]}} [devices] device ids, the default first */
  constructor({ audio = ["mic-0", "mic-1"], video = ["cam-0", "cam-1"] } = {}) {
    super();
    this.devices = { audio: [...audio], video: [...video] };
    /** @type {Map<string, string>} device id (or "audio"/"video"/"*") → error name */
    this.refusals = new Map();
    /** @type {MediaStreamConstraints[]} every request, in order */
    this.requests = [];
    /** @type {FakeDeviceTrack[]} every track handed out */
    this.opened = [];
    /** @type {((constraints: MediaStreamConstraints) => Promise<void>)|null} runs before answering */
    this.delay = null;
  }

  /**
   * @param {"audio"|"video"} kind
   * @param {boolean|MediaTrackConstraints|undefined} constraint
   * @returns {string} the device that opens
   */
  pick(kind, constraint) {
    const all = this.refusals.get("*") || this.refusals.get(kind);
    if (all) throw refusal(all);
    const wanted = typeof constraint === "object" ? constraint.deviceId : undefined;
    const exact = typeof wanted === "object" && !Array.isArray(wanted) ? wanted.exact : undefined;
    const ideal = typeof wanted === "object" && !Array.isArray(wanted) ? wanted.ideal : undefined;
    const list = this.devices[kind];
    /** @type {string|undefined} */
    let id;
    if (exact !== undefined) id = list.find((d) => d === exact);
    else id = list.find((d) => d === ideal) || list[0];
    if (id === undefined) throw refusal("NotFoundError");
    const refused = this.refusals.get(id);
    if (refused) throw refusal(refused);
    return id;
  }

  /** @param {MediaStreamConstraints} constraints */
  async getUserMedia(constraints) {
    this.requests.push(constraints);
    if (this.delay) await this.delay(constraints);
    /** @type {string[][]} */
    const picked = [];
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      if (constraints[kind]) picked.push([kind, this.pick(kind, constraints[kind])]);
    }
    const tracks = picked.map(([kind, id]) => {
      const track = new FakeDeviceTrack(/** @type {"audio"|"video"} */ (kind), id);
      this.opened.push(track);
      return track;
    });
    return new FakeStream(tracks);
  }

  /** @param {DisplayMediaStreamOptions} _options */
  async getDisplayMedia(_options) {
    const refused = this.refusals.get("screen");
    if (refused) throw refusal(refused);
    const track = new FakeDeviceTrack("video", "screen");
    this.opened.push(track);
    return new FakeStream([track]);
  }

  async enumerateDevices() {
    return [
      ...this.devices.audio.map((deviceId) => ({ kind: "audioinput", deviceId, label: deviceId })),
      ...this.devices.video.map((deviceId) => ({ kind: "videoinput", deviceId, label: deviceId })),
      { kind: "audiooutput", deviceId: "speaker-0", label: "speaker-0" },
    ];
  }

  /**
   * The tracks of one device still live.
   * @param {string} deviceId
   */
  live(deviceId) {
    return this.opened.filter((t) => t.deviceId === deviceId && t.readyState === "live");
  }
}

/**
 * Put these devices where the media modules look (`navigator.mediaDevices`,
 * `MediaStream`).
 * @param {FakeMediaDevices} devices
 */
export function installMediaDevices(devices) {
  const scope = /** @type {any} */ (globalThis);
  Object.defineProperty(scope, "navigator", {
    value: { mediaDevices: devices },
    configurable: true,
    writable: true,
  });
  scope.MediaStream = FakeStream;
}
