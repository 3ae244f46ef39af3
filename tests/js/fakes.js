/**
 * Stand-ins for the browser APIs the call's DOM-free modules use, enough to
 * run them under `node --test`: a peer connection with the real signaling
 * state machine (offers, answers, implicit rollback, closing), a data
 * channel, a MediaStream and a signaling socket. Install them with
 * `installFakes()` before importing the modules.
 */

let nextSession = 1000;

export class FakeTrack {
  /** @param {"audio"|"video"} kind */
  constructor(kind) {
    this.kind = kind;
    this.id = `${kind}-${Math.random()}`;
  }
}

export class FakeMediaStream {
  constructor() {
    /** @type {any[]} */
    this.tracks = [];
  }
  getTracks() {
    return [...this.tracks];
  }
  /** @param {any} track */
  addTrack(track) {
    this.tracks.push(track);
  }
  /** @param {any} track */
  removeTrack(track) {
    this.tracks = this.tracks.filter((t) => t !== track);
  }
}

class FakeSender {
  /** @param {any} track */
  constructor(track) {
    this.track = track;
    /** @type {RTCRtpSendParameters} */
    this.params = /** @type {any} */ ({ encodings: [{}] });
  }
  /** @param {any} track */
  async replaceTrack(track) {
    this.track = track;
  }
  getParameters() {
    return structuredClone(this.params);
  }
  /** @param {RTCRtpSendParameters} params */
  async setParameters(params) {
    this.params = structuredClone(params);
  }
}

export class FakeChannel extends EventTarget {
  constructor() {
    super();
    this.readyState = "connecting";
    /** @type {string[]} */
    this.sent = [];
  }
  /** @param {string} data */
  send(data) {
    this.sent.push(data);
  }
  open() {
    this.readyState = "open";
    this.dispatchEvent(new Event("open"));
  }
  /** @param {string} data */
  receive(data) {
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }
  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    setTimeout(() => this.dispatchEvent(new Event("close")));
  }
}

/** Every fake connection made, in order. */
export const connections = /** @type {FakePeerConnection[]} */ ([]);

export class FakePeerConnection extends EventTarget {
  /** @param {RTCConfiguration} [config] */
  constructor(config) {
    super();
    this.config = config;
    this.session = String(nextSession++);
    this.version = 0;
    this.signalingState = "stable";
    this.connectionState = "new";
    this.iceConnectionState = "new";
    /** @type {RTCSessionDescriptionInit|null} */
    this.localDescription = null;
    /** @type {RTCSessionDescriptionInit|null} */
    this.remoteDescription = null;
    /** @type {any[]} */
    this.transceivers = [];
    /** @type {FakeChannel[]} */
    this.channels = [];
    /** @type {any[]} */
    this.candidates = [];
    this.iceRestarts = 0;
    connections.push(this);
  }

  /**
   * @param {any} trackOrKind
   * @param {RTCRtpTransceiverInit} [init]
   */
  addTransceiver(trackOrKind, init = {}) {
    const kind = typeof trackOrKind === "string" ? trackOrKind : trackOrKind.kind;
    const track = typeof trackOrKind === "string" ? null : trackOrKind;
    const transceiver = {
      sender: new FakeSender(track),
      receiver: { track: new FakeTrack(kind) },
      direction: init.direction || "sendrecv",
      currentDirection: null,
    };
    this.transceivers.push(transceiver);
    return transceiver;
  }

  getTransceivers() {
    return [...this.transceivers];
  }

  getSenders() {
    return this.transceivers.map((t) => t.sender);
  }

  /** @param {string} _label */
  createDataChannel(_label) {
    const channel = new FakeChannel();
    this.channels.push(channel);
    return channel;
  }

  /** @private */
  sdp() {
    const media = this.transceivers.map((t) => `m=${t.receiver.track.kind}`).join("\r\n");
    return `v=0\r\no=- ${this.session} ${this.version++} IN IP4 127.0.0.1\r\n${media}\r\n`;
  }

  /** @param {RTCOfferOptions} [options] */
  async createOffer(options = {}) {
    await Promise.resolve();
    if (this.signalingState === "closed") throw new DOMException("closed", "InvalidStateError");
    if (options.iceRestart) this.iceRestarts += 1;
    return { type: "offer", sdp: this.sdp() };
  }

  /** @param {RTCSessionDescriptionInit} [description] */
  async setLocalDescription(description) {
    await Promise.resolve();
    if (this.signalingState === "closed") throw new DOMException("closed", "InvalidStateError");
    if (description?.type === "offer") {
      this.localDescription = description;
      this.signalingState = "have-local-offer";
    } else if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: this.sdp() };
      this.signalingState = "stable";
    } else {
      this.localDescription = { type: "offer", sdp: this.sdp() };
      this.signalingState = "have-local-offer";
    }
  }

  /** @param {RTCSessionDescriptionInit} description */
  async setRemoteDescription(description) {
    await Promise.resolve();
    if (this.signalingState === "closed") throw new DOMException("closed", "InvalidStateError");
    if (description.type === "offer") {
      // A pending local offer is rolled back implicitly (perfect negotiation).
      if (this.transceivers.length === 0) {
        for (const kind of ["audio", "video"]) {
          if (description.sdp?.includes(`m=${kind}`)) this.addTransceiver(kind, {});
        }
      }
      this.signalingState = "have-remote-offer";
    } else {
      if (this.signalingState !== "have-local-offer") {
        throw new DOMException("no offer to answer", "InvalidStateError");
      }
      this.signalingState = "stable";
    }
    this.remoteDescription = description;
  }

  /** @param {RTCIceCandidateInit|undefined} candidate */
  async addIceCandidate(candidate) {
    if (!this.remoteDescription)
      throw new DOMException("no remote description", "InvalidStateError");
    this.candidates.push(candidate);
  }

  restartIce() {
    if (this.signalingState === "closed") throw new DOMException("closed", "InvalidStateError");
    this.iceRestarts += 1;
    setTimeout(() => this.dispatchEvent(new Event("negotiationneeded")));
  }

  /** @param {RTCConfiguration} config */
  setConfiguration(config) {
    this.config = config;
  }

  close() {
    this.signalingState = "closed";
    this.connectionState = "closed";
    for (const channel of this.channels) channel.close();
  }

  /**
   * What the browser reports as the pair's state.
   * @param {RTCPeerConnectionState} state
   */
  setConnectionState(state) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

/** A signaling socket the test drives: it records what is sent. */
export class FakeSignaling extends EventTarget {
  constructor() {
    super();
    /** @type {any[]} */
    this.sent = [];
    this.isOpen = false;
    this.stopped = false;
    this.maxDelay = 10000;
    this.connects = 0;
    this.restarts = 0;
    this.retries = 0;
  }
  connect() {
    this.connects += 1;
  }
  restart() {
    this.stopped = false;
    this.restarts += 1;
  }
  retryNow() {
    this.retries += 1;
  }
  leave() {
    this.send({ type: "leave" });
    this.stopped = true;
  }
  /** @param {{type: string}} message */
  send(message) {
    if (!this.isOpen) return false;
    this.sent.push(message);
    return true;
  }
  open() {
    this.isOpen = true;
    this.dispatchEvent(new Event("open"));
  }
  /** @param {object} message */
  deliver(message) {
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }
  /** @param {number} code */
  drop(code = 1006) {
    this.isOpen = false;
    this.dispatchEvent(new CustomEvent("reconnecting", { detail: { code, delay: 100 } }));
  }
  /** @param {number} code */
  closeFinally(code) {
    this.isOpen = false;
    this.stopped = true;
    this.dispatchEvent(new CustomEvent("closed", { detail: { code, reason: "" } }));
  }
  /** @param {string} type */
  sentOf(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

/** Put the fakes where the modules look for the browser's classes. */
export function installFakes() {
  const scope = /** @type {any} */ (globalThis);
  scope.RTCPeerConnection = FakePeerConnection;
  scope.MediaStream = FakeMediaStream;
  connections.length = 0;
}

/**
 * Let queued promise jobs and zero-delay timers run, chains of them included:
 * each round waits behind every timer already queued (timers of the same
 * delay fire in order), so relays that hop through `setTimeout` complete.
 */
export async function settle(rounds = 40) {
  for (let round = 0; round < rounds; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
