/**
 * One RTCPeerConnection to one remote participant: building it (again),
 * trickle ICE, the chat and file data channels, what we send on it
 * (senders.js), and self-repair (ICE restart, then rebuild). Perfect
 * negotiation is negotiation.js's. No DOM.
 * @module
 */

import { Negotiation, sdpSessionId } from "./negotiation.js";
import { addTransceivers, applyEncoding, attachTracks } from "./senders.js";

export { sdpSessionId };

/**
 * How our pair with one peer is doing, as the tile shows it.
 * @typedef {"connecting"|"connected"|"reconnecting"|"failed"} PairState
 */

/** @typedef {import("./negotiation.js").SignalFrame} SignalFrame */

/** How long `disconnected` may last before we restart ICE (ms). */
const DISCONNECTED_GRACE_MS = 2500;
/** How long a (re)connection attempt may take before the next repair step (ms). */
const REPAIR_TIMEOUT_MS = 8000;
/** Repair rounds (restart, rebuild, ...) after which the pair is shown as failed. */
const FAILED_AFTER_ROUNDS = 2;

/**
 * A connection to one remote peer.
 *
 * Events:
 * - `state`: `detail.state` is `connecting`, `connected`, `reconnecting` or `failed`.
 * - `stream`: `detail.stream` is the remote MediaStream (a new one after a rebuild).
 * - `channel-open`: the chat data channel opened.
 * - `channel-message`: `detail.data` is a string received on it.
 * - `file-channel`: `detail.channel` is this connection's new "file" data
 *   channel (files.js drives it; a rebuild makes a new one).
 * - `ice-error`: `detail` is `{errorCode, url, errorText}` from `icecandidateerror`.
 * - `negotiated`: a negotiation finished (senders exist now; re-apply encodings).
 */
export class Peer extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.id the remote peer id
   * @param {boolean} options.polite from the server (`polite` in welcome / peer-joined)
   * @param {boolean} options.initiator true when we make the first offer (`offer` flag)
   * @param {RTCConfiguration} options.config ICE servers and transport policy
   * @param {(message: {type: string, [key: string]: unknown}) => void} options.send
   *   sends a signaling frame to this peer
   * @param {() => {audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} options.tracks
   *   the local tracks to send right now
   * @param {() => RTCRtpEncodingParameters} options.videoEncoding the video encoding to apply
   */
  constructor({ id, polite, initiator, config, send, tracks, videoEncoding }) {
    super();
    this.id = id;
    this.polite = polite;
    this.config = config;
    this.send = send;
    this.tracks = tracks;
    this.videoEncoding = videoEncoding;
    this.state = "connecting";
    this.wasConnected = false;
    this.closed = false;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.repairTimer = undefined;
    this.repairRound = 0;
    this.iceMarked = false;
    /** @type {{audio: RTCRtpSender|null, video: RTCRtpSender|null}} */
    this.senders = { audio: null, video: null };
    /** @type {RTCDataChannel|null} */
    this.channel = null;
    /** @type {RTCDataChannel|null} */
    this.fileChannel = null;
    this.remoteStream = new MediaStream();
    /** Offers and answers on whichever connection this pair holds (negotiation.js). */
    this.negotiation = new Negotiation({
      id,
      polite: () => this.polite,
      pc: () => this.pc,
      closed: () => this.closed,
      send: (message) => this.send(message),
      rebuild: () => this.build(false),
      recoverClosed: () => this.recoverClosed(),
      attach: () => this.attachToOffer(),
      negotiated: () => this.dispatchEvent(new Event("negotiated")),
    });
    this.pc = this.build(initiator);
  }

  /**
   * @private Create the RTCPeerConnection (first time or on rebuild).
   * @param {boolean} initiator whether this connection makes the first offer
   * @returns {RTCPeerConnection}
   */
  build(initiator) {
    if (this.pc) this.teardown(this.pc);
    const pc = new RTCPeerConnection(this.config);
    this.pc = pc;
    this.negotiation.reset();
    this.senders = { audio: null, video: null };
    this.channel = null;
    this.remoteStream = new MediaStream();

    pc.addEventListener("negotiationneeded", () => this.negotiation.offer(pc));
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (pc !== this.pc) return;
      this.send({ type: "candidate", candidate: candidate ? candidate.toJSON() : null });
    });
    pc.addEventListener("icecandidateerror", (event) => {
      if (pc !== this.pc) return;
      const { errorCode, url, errorText } = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
      const detail = { errorCode, url, errorText };
      this.dispatchEvent(new CustomEvent("ice-error", { detail }));
    });
    pc.addEventListener("track", ({ track }) => {
      if (pc !== this.pc) return;
      for (const old of this.remoteStream.getTracks()) {
        if (old.kind === track.kind && old !== track) this.remoteStream.removeTrack(old);
      }
      if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
      this.dispatchEvent(new CustomEvent("stream", { detail: { stream: this.remoteStream } }));
    });
    pc.addEventListener("iceconnectionstatechange", () => {
      if (pc !== this.pc) return;
      const ice = pc.iceConnectionState;
      if ((ice === "connected" || ice === "completed") && !this.iceMarked) {
        this.iceMarked = true;
        performance.mark(`meet:ice-connected:${this.id}`);
      }
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc === this.pc) this.onConnectionState();
    });

    if (initiator) {
      // The newcomer creates everything the pair will ever need up front: one
      // audio and one video transceiver and the negotiated chat channel. Later
      // camera changes and screen share are then replaceTrack() calls, with
      // no renegotiation.
      this.senders = addTransceivers(pc, this.tracks(), this.videoEncoding());
      this.openChannel();
      // Start the offer now rather than from the negotiationneeded event: that
      // event is a task queued behind whatever the page does next (building
      // the call's tiles), and creating the offer can overlap with that work.
      // If the event still fires while this offer is being made, it is
      // ignored (makingOffer): this offer covers everything added above.
      this.negotiation.offer(pc);
    }
    this.armRepair();
    return pc;
  }

  /** @private */
  openChannel() {
    const channel = this.pc.createDataChannel("chat", { negotiated: true, id: 0, ordered: true });
    this.channel = channel;
    // Files get their own channel, so a large one never holds up chat.
    const files = this.pc.createDataChannel("file", { negotiated: true, id: 1, ordered: true });
    this.fileChannel = files;
    this.dispatchEvent(new CustomEvent("file-channel", { detail: { channel: files } }));
    channel.addEventListener("open", () => {
      if (channel === this.channel) this.dispatchEvent(new Event("channel-open"));
    });
    channel.addEventListener("message", (event) => {
      if (channel === this.channel && typeof event.data === "string") {
        this.dispatchEvent(new CustomEvent("channel-message", { detail: { data: event.data } }));
      }
    });
    // Chromium closes the channels of a connection closed under us (no
    // connectionstatechange fires for close()): the quickest sign it is gone.
    // A channel closed by the other side (it rebuilt, or its connection died)
    // needs nothing here: its new offer, or our ICE repair, follows.
    channel.addEventListener("close", () => {
      if (channel === this.channel) this.recoverClosed();
    });
  }

  /**
   * Handle an `offer`, `answer` or `candidate` frame from this peer
   * (negotiation.js: one at a time, in arrival order).
   * @param {SignalFrame} message
   * @returns {Promise<void>}
   */
  handle(message) {
    return this.negotiation.handle(message);
  }

  /**
   * The signaling server was away: make again an offer of ours that the
   * outage may have swallowed (negotiation.js).
   */
  resync() {
    this.negotiation.resync();
  }

  /**
   * @private Answerer side: send our tracks on the transceivers the offer
   * created, and open the negotiated chat channel. Adding them before the
   * offer arrived would have fired negotiationneeded here and caused glare.
   */
  attachToOffer() {
    attachTracks(this.pc, this.tracks(), this.senders);
    if (!this.channel) this.openChannel();
  }

  /** @private */
  onConnectionState() {
    const state = this.pc.connectionState;
    if (state === "connected") {
      this.wasConnected = true;
      this.repairRound = 0;
      clearTimeout(this.repairTimer);
      this.setState("connected");
    } else if (state === "disconnected") {
      this.setState("reconnecting");
      this.armRepair(DISCONNECTED_GRACE_MS);
    } else if (state === "failed") {
      this.setState("reconnecting");
      this.repair();
    } else if (state === "connecting" || state === "new") {
      this.setState(this.wasConnected ? "reconnecting" : "connecting");
    } else if (state === "closed") {
      // close() fires no event by the specification, but should a browser
      // report it, this connection is gone: rebuild it.
      this.recoverClosed();
    }
  }

  /**
   * @private Our RTCPeerConnection was closed, but not by us (a rebuild or
   * close() replaces or forgets it first): by the browser, or by anything else
   * holding it. Nothing on it can be repaired: restartIce() would throw, and
   * the impolite side would ignore the other side's ICE restart offers forever
   * (a closed connection is never "stable", so every offer looks like glare).
   * Rebuild now and offer, whichever side we are: the other side sees a new
   * session id in our offer and rebuilds to answer; if it is offering an ICE
   * restart at that moment, its old connection and that offer go away with
   * its rebuild.
   * @returns {boolean} whether the connection had to be rebuilt
   */
  recoverClosed() {
    if (this.closed || !this.pc || this.pc.signalingState !== "closed") return false;
    console.warn(`meet: the connection to ${this.id} was closed; rebuilding it`);
    this.build(true);
    this.setState(this.wasConnected ? "reconnecting" : "connecting");
    return true;
  }

  /**
   * @private
   * @param {PairState} state
   */
  setState(state) {
    if (this.repairRound >= FAILED_AFTER_ROUNDS && state !== "connected") state = "failed";
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state } }));
  }

  /** @private (Re)start the repair clock: if not connected by then, repair. */
  armRepair(delay = REPAIR_TIMEOUT_MS) {
    clearTimeout(this.repairTimer);
    this.repairTimer = setTimeout(() => {
      if (!this.closed && this.pc.connectionState !== "connected") this.repair();
    }, delay);
  }

  /**
   * @private One repair step. First an ICE restart (either side may start
   * one; perfect negotiation settles the glare). If that did not help, the
   * impolite side rebuilds the connection and offers again: its offer wins
   * any glare, and the polite side notices the new session and follows.
   */
  repair() {
    if (this.closed || this.recoverClosed()) return;
    clearTimeout(this.repairTimer);
    const round = this.repairRound++;
    if (round === 0 && this.pc.remoteDescription) {
      this.pc.restartIce();
    } else if (!this.polite) {
      this.build(true);
    }
    this.setState(this.wasConnected ? "reconnecting" : "connecting");
    this.armRepair();
  }

  /**
   * Send `track` (or nothing) as our audio or video.
   * @param {"audio"|"video"} kind
   * @param {MediaStreamTrack|null} track
   * @returns {Promise<void>}
   */
  async replaceTrack(kind, track) {
    const sender = this.senders[kind];
    if (!sender || sender.track === track) return;
    await sender.replaceTrack(track);
  }

  /**
   * Apply video encoding limits (bitrate, resolution scale) to our video sender.
   * @returns {Promise<void>}
   */
  async applyVideoEncoding() {
    const sender = this.senders.video;
    if (!sender) return;
    await applyEncoding(sender, this.videoEncoding());
  }

  /**
   * Use new ICE servers (fresh TURN credentials) from now on.
   * @param {RTCConfiguration} config
   */
  setConfiguration(config) {
    this.config = config;
    try {
      this.pc.setConfiguration(config);
    } catch (error) {
      console.warn("meet: could not apply new ICE servers", error);
    }
  }

  /**
   * Send a string on the chat channel if it is open.
   * @param {string} data
   * @returns {boolean} whether it was sent
   */
  sendData(data) {
    if (this.channel?.readyState !== "open") return false;
    this.channel.send(data);
    return true;
  }

  /**
   * Start this pair over because the person asked to (Retry on a failed
   * tile): a new connection and a new offer, whichever side we are, as for a
   * connection closed under us. The other side sees the new session id and
   * answers from a new connection of its own; should both press Retry at
   * once, each new connection starts with no remote session, so the offers
   * collide and perfect negotiation keeps the impolite side's.
   */
  restart() {
    if (this.closed) return;
    this.repairRound = 0;
    this.build(true);
    this.setState(this.wasConnected ? "reconnecting" : "connecting");
  }

  /**
   * @private
   * @param {RTCPeerConnection} pc
   */
  teardown(pc) {
    if (this.channel) this.channel.close();
    if (this.fileChannel) this.fileChannel.close();
    pc.close();
  }

  /** Close the connection for good. */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.repairTimer);
    this.teardown(this.pc);
  }
}
