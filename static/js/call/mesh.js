/**
 * The mesh: one Peer per remote participant, keyed by peer id. Routes
 * signaling frames to them, keeps the video bitrate budget, applies fresh
 * ICE servers. No DOM.
 * @module
 */

import { Peer } from "./peer.js";

/** Frames for a peer we have not been told about yet are kept this long (ms). */
const EARLY_SIGNAL_TTL_MS = 10000;
/** Ask for fresh TURN credentials this long before they expire (s). */
const ICE_REFRESH_MARGIN_S = 300;

/**
 * The video encoding each sender uses, given how many peers it sends to.
 *
 * A mesh sends one copy of its video per peer, so the uplink carries
 * `peers × bitrate`. The total `budget.videoKbps` is split evenly and each
 * copy is capped at `budget.perPeerMaxKbps`; from 3 peers on the camera is
 * also sent at 2/3 of its resolution (720p → 480p), which looks better than
 * 720p starved of bits. A shared screen keeps its full resolution (text must
 * stay legible) and gives up frame rate instead (see docs/call.md).
 *
 * @param {number} peerCount remote peers we send to
 * @param {{videoKbps: number, perPeerMaxKbps: number}} budget
 * @param {boolean} [screen] whether the video is a shared screen
 * @returns {RTCRtpEncodingParameters}
 */
export function videoEncodingFor(peerCount, budget, screen = false) {
  const peers = Math.max(1, peerCount);
  const kbps = Math.min(budget.perPeerMaxKbps, budget.videoKbps / peers);
  return {
    maxBitrate: Math.round(kbps * 1000),
    scaleResolutionDownBy: !screen && peers >= 3 ? 1.5 : 1,
    maxFramerate: screen ? 15 : undefined,
  };
}

/**
 * RTCConfiguration from the `ice` object of `welcome` / `ice-servers`.
 * @param {{servers?: RTCIceServer[], policy?: string}} ice
 * @returns {RTCConfiguration}
 */
export function rtcConfiguration(ice) {
  return {
    iceServers: (ice && ice.servers) || [],
    iceTransportPolicy: ice && ice.policy === "relay" ? "relay" : "all",
    bundlePolicy: "max-bundle",
  };
}

/**
 * All peer connections of this call.
 *
 * Events (each `detail` has `id`, the remote peer id):
 * - `peer-state` (`state`), `peer-stream` (`stream`),
 * - `channel-open`, `channel-message` (`data`),
 * - `ice-error` (`errorCode`, `url`, `errorText`).
 */
export class Mesh extends EventTarget {
  /**
   * @param {object} options
   * @param {(message: object) => boolean} options.send sends a signaling frame
   * @param {() => {audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} options.tracks
   * @param {{videoKbps: number, perPeerMaxKbps: number}} options.budget
   */
  constructor({ send, tracks, budget }) {
    super();
    this.send = send;
    this.tracks = tracks;
    this.budget = budget;
    this.screen = false;
    /** @type {Map<string, Peer>} */
    this.peers = new Map();
    /** @type {Map<string, {at: number, frames: object[]}>} */
    this.early = new Map();
    this.config = rtcConfiguration(null);
    this.iceTimer = 0;
  }

  /**
   * Use the ICE servers of a `welcome` or `ice-servers` frame, now and for
   * every existing connection, and schedule the next refresh.
   * @param {{servers: RTCIceServer[], policy: string, expires?: number}} ice
   */
  setIce(ice) {
    this.ice = ice;
    this.config = rtcConfiguration(ice);
    for (const peer of this.peers.values()) peer.setConfiguration(this.config);
    clearTimeout(this.iceTimer);
    if (ice && ice.expires) {
      const seconds = ice.expires - Date.now() / 1000 - ICE_REFRESH_MARGIN_S;
      const delay = Math.max(30, seconds) * 1000;
      this.iceTimer = setTimeout(() => this.send({ type: "ice-servers" }), delay);
    }
  }

  /** Whether every connection must go through TURN. */
  get relayOnly() {
    return this.config.iceTransportPolicy === "relay";
  }

  /**
   * Start a connection to a peer from `welcome` (we offer) or `peer-joined`
   * (we wait for their offer). Both flags come from the server.
   * @param {{peer: string, offer: boolean, polite: boolean}} info
   * @returns {Peer}
   */
  add(info) {
    this.remove(info.peer);
    const id = info.peer;
    const peer = new Peer({
      id,
      polite: !!info.polite,
      initiator: !!info.offer,
      config: this.config,
      send: (message) => this.send({ ...message, to: id }),
      tracks: this.tracks,
      videoEncoding: () => videoEncodingFor(this.peers.size, this.budget, this.screen),
    });
    // Peers from peer-joined came after us: they get our chat history.
    peer.joinedAfterUs = !info.offer;
    const forward = (type, extra) => (event) =>
      this.dispatchEvent(new CustomEvent(type, { detail: { id, ...extra(event) } }));
    peer.addEventListener("state", forward("peer-state", (e) => e.detail));
    peer.addEventListener("stream", forward("peer-stream", (e) => e.detail));
    peer.addEventListener("channel-open", forward("channel-open", () => ({})));
    peer.addEventListener("channel-message", forward("channel-message", (e) => e.detail));
    peer.addEventListener("ice-error", forward("ice-error", (e) => e.detail));
    peer.addEventListener("negotiated", () => peer.applyVideoEncoding());
    peer.addEventListener("state", (event) => {
      if (event.detail.state === "connected") peer.applyVideoEncoding();
    });
    this.peers.set(id, peer);
    this.applyBudget();
    const early = this.early.get(id);
    this.early.delete(id);
    if (early) for (const frame of early.frames) peer.handle(frame);
    return peer;
  }

  /**
   * Close the connection to a peer that left.
   * @param {string} id
   */
  remove(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.close();
    this.peers.delete(id);
    this.applyBudget();
  }

  /**
   * Route an `offer`, `answer` or `candidate` frame (stamped `from` by the server).
   * @param {{type: string, from: string}} message
   */
  signal(message) {
    const peer = this.peers.get(message.from);
    if (peer) {
      peer.handle(message);
      return;
    }
    // The relayed offer can overtake the peer-joined announcement (they travel
    // on different channels): keep it until the announcement arrives.
    const now = Date.now();
    for (const [id, entry] of this.early) {
      if (now - entry.at > EARLY_SIGNAL_TTL_MS) this.early.delete(id);
    }
    const entry = this.early.get(message.from) || { at: now, frames: [] };
    entry.frames.push(message);
    this.early.set(message.from, entry);
  }

  /**
   * Send `track` as our audio or video to every peer (no renegotiation).
   * @param {"audio"|"video"} kind
   * @param {MediaStreamTrack|null} track
   * @returns {Promise<void>}
   */
  async replaceTrack(kind, track) {
    await Promise.all([...this.peers.values()].map((peer) => peer.replaceTrack(kind, track)));
  }

  /**
   * Whether our video is a shared screen (changes the encoding).
   * @param {boolean} screen
   */
  setScreen(screen) {
    this.screen = screen;
    this.applyBudget();
  }

  /** Re-apply the per-peer video encoding to every sender. */
  applyBudget() {
    for (const peer of this.peers.values()) peer.applyVideoEncoding();
  }

  /**
   * Send a string on every open chat channel.
   * @param {string} data
   * @returns {number} how many peers it was sent to
   */
  broadcast(data) {
    let sent = 0;
    for (const peer of this.peers.values()) if (peer.sendData(data)) sent += 1;
    return sent;
  }

  /**
   * Send a string to one peer's chat channel.
   * @param {string} id
   * @param {string} data
   * @returns {boolean}
   */
  sendTo(id, data) {
    const peer = this.peers.get(id);
    return !!peer && peer.sendData(data);
  }

  /** Close every connection (leaving, or rejoining under a new peer id). */
  clear() {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.early.clear();
  }

  /** Close everything and stop timers. */
  close() {
    this.clear();
    clearTimeout(this.iceTimer);
  }
}
