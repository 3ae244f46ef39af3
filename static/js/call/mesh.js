/**
 * The mesh: what every pair of the call shares. It builds each pair's Peer,
 * keeps the video bitrate budget across them, and keeps their ICE servers
 * fresh. It holds no list of its own: the pairs live in the call's roster
 * (session.js), which it reads through `pairs`. No DOM.
 * @module
 */

import { audioEncoding, planEncodings } from "./encoding.js";
import { Peer } from "./peer.js";
import { applyEncoding } from "./senders.js";
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
 * The `ice` object of `welcome` and `ice-servers` (docs/protocol.md).
 * @typedef {{servers?: RTCIceServer[], policy?: string, expires?: number}} IceConfig
 */

/**
 * RTCConfiguration from the `ice` object of `welcome` / `ice-servers`.
 * @param {IceConfig|null} ice
 * @returns {RTCConfiguration}
 */
export function rtcConfiguration(ice) {
  return {
    iceServers: ice?.servers || [],
    iceTransportPolicy: ice && ice.policy === "relay" ? "relay" : "all",
    bundlePolicy: "max-bundle",
  };
}

/**
 * The pairs of this call, as a whole.
 */
export class Mesh {
  /**
   * @param {object} options
   * @param {(message: {type: string, [key: string]: unknown}) => boolean} options.send sends a signaling frame
   * @param {() => {audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} options.tracks
   * @param {{videoKbps: number, perPeerMaxKbps: number}} options.budget
   * @param {() => Iterable<Peer>} options.pairs every pair of the call right now
   */
  constructor({ send, tracks, budget, pairs }) {
    this.send = send;
    this.tracks = tracks;
    this.budget = budget;
    this.pairs = pairs;
    this.screen = false;
    /** What each receiver reported about our tile on its screen (encoding.js).
     * @type {Map<string, import("./encoding.js").View>} */
    this.views = new Map();
    this.config = rtcConfiguration(null);
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.iceTimer = undefined;
  }

  /**
   * Use the ICE servers of a `welcome` or `ice-servers` frame, now and for
   * every existing connection, and schedule the next refresh.
   * @param {IceConfig|null} ice
   */
  setIce(ice) {
    this.config = rtcConfiguration(ice);
    for (const peer of this.pairs()) peer.setConfiguration(this.config);
    clearTimeout(this.iceTimer);
    if (ice?.expires) {
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
   * Build the pair with a peer from `welcome` (we offer) or `peer-joined`
   * (we wait for their offer); both flags come from the server. The caller
   * keeps it where `pairs` finds it, then calls `applyBudget`.
   * @param {{peer: string, offer: boolean, polite: boolean}} info
   * @returns {Peer}
   */
  connect(info) {
    const id = info.peer;
    const peer = new Peer({
      id,
      polite: !!info.polite,
      initiator: !!info.offer,
      config: this.config,
      send: (message) => this.send({ ...message, to: id }),
      tracks: this.tracks,
      videoEncoding: () => this.encodingFor(id),
    });
    const apply = () => {
      peer.applyVideoEncoding();
      const audio = peer.senders.audio;
      if (audio) applyEncoding(audio, audioEncoding());
    };
    peer.addEventListener("negotiated", apply);
    peer.addEventListener("state", (event) => {
      const { state } = /** @type {CustomEvent<{state: string}>} */ (event).detail;
      if (state === "connected") apply();
    });
    return peer;
  }

  /**
   * The video encoding for the copy we send to `id`: the budget split over
   * every receiver by what each shows (encoding.js `planEncodings`).
   * @param {string} id
   * @returns {RTCRtpEncodingParameters}
   */
  encodingFor(id) {
    const receivers = [...this.pairs()].map((peer) => peer.id);
    if (!receivers.includes(id)) receivers.push(id); // being built
    const settings = this.tracks().video?.getSettings?.();
    const plan = planEncodings({
      receivers,
      views: this.views,
      sourceHeight: settings?.height ?? 0,
      budget: this.budget,
      screen: this.screen,
    });
    return plan.get(id) ?? videoEncodingFor(receivers.length, this.budget, this.screen);
  }

  /**
   * A receiver reported how it shows our video: re-plan every copy (the
   * shares depend on each other).
   * @param {string} id
   * @param {import("./encoding.js").View} view
   */
  setView(id, view) {
    const before = this.views.get(id);
    if (before && before.height === view.height && before.lossy === view.lossy) return;
    this.views.set(id, view);
    this.applyBudget();
  }

  /**
   * Someone left: their report goes with them.
   * @param {string} id
   */
  forget(id) {
    this.views.delete(id);
  }

  /**
   * Send `track` as our audio or video to every peer (no renegotiation).
   * @param {"audio"|"video"} kind
   * @param {MediaStreamTrack|null} track
   * @returns {Promise<void>}
   */
  async replaceTrack(kind, track) {
    await Promise.all([...this.pairs()].map((peer) => peer.replaceTrack(kind, track)));
  }

  /**
   * Whether our video is a shared screen (changes the encoding).
   * @param {boolean} screen
   */
  setScreen(screen) {
    this.screen = screen;
    this.applyBudget();
  }

  /** Re-apply the per-peer video encoding to every sender (the number of pairs changed). */
  applyBudget() {
    for (const peer of this.pairs()) peer.applyVideoEncoding();
  }

  /**
   * Send a string on every open chat channel.
   * @param {string} data
   * @returns {number} how many peers it was sent to
   */
  broadcast(data) {
    let sent = 0;
    for (const peer of this.pairs()) if (peer.sendData(data)) sent += 1;
    return sent;
  }

  /** Stop the ICE refresh (the call is over on this page). */
  close() {
    clearTimeout(this.iceTimer);
  }
}
