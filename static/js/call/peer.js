/**
 * One RTCPeerConnection to one remote participant, with perfect negotiation
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example), trickle
 * ICE, the chat data channel, and self-repair (ICE restart, then rebuild).
 * No DOM.
 * @module
 */

/**
 * How our pair with one peer is doing, as the tile shows it.
 * @typedef {"connecting"|"connected"|"reconnecting"|"failed"} PairState
 */

/**
 * An `offer`, `answer` or `candidate` frame from the server (`from` stamped).
 * `gen` numbers the offers of one side of the pair; an answer carries the
 * `gen` of the offer it answers (docs/protocol.md, "Resume").
 * @typedef {{type: string, from?: string, sdp?: string, gen?: number,
 *   candidate?: RTCIceCandidateInit|null}} SignalFrame
 */

/** How long `disconnected` may last before we restart ICE (ms). */
const DISCONNECTED_GRACE_MS = 2500;
/** How long a (re)connection attempt may take before the next repair step (ms). */
const REPAIR_TIMEOUT_MS = 8000;
/** Repair rounds (restart, rebuild, ...) after which the pair is shown as failed. */
const FAILED_AFTER_ROUNDS = 2;

/**
 * The session id of an SDP's `o=` line. A new RTCPeerConnection always picks a
 * new one, so a changed id means the other side rebuilt its connection.
 * @param {string|undefined} sdp
 * @returns {string}
 */
export function sdpSessionId(sdp) {
  const match = /^o=\S+ (\d+) /m.exec(sdp || "");
  return match ? match[1] : "";
}

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
    this.queue = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.repairTimer = undefined;
    this.repairRound = 0;
    this.iceMarked = false;
    this.firstOffer = true;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    /** Whether our current connection made the offer of its first negotiation. */
    this.offeredFirst = false;
    /** The generation of our latest offer (they answer with it). */
    this.offerGen = 0;
    /** The generation of the latest offer of theirs we applied. */
    this.remoteGen = -1;
    this.remoteSession = "";
    /** @type {{audio: RTCRtpSender|null, video: RTCRtpSender|null}} */
    this.senders = { audio: null, video: null };
    /** @type {RTCDataChannel|null} */
    this.channel = null;
    /** @type {RTCDataChannel|null} */
    this.fileChannel = null;
    this.remoteStream = new MediaStream();
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
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.offeredFirst = initiator;
    this.remoteSession = "";
    this.senders = { audio: null, video: null };
    this.channel = null;
    this.remoteStream = new MediaStream();

    pc.addEventListener("negotiationneeded", () => this.onNegotiationNeeded(pc));
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
      const { audio, video } = this.tracks();
      this.senders.audio = pc.addTransceiver(audio || "audio", { direction: "sendrecv" }).sender;
      this.senders.video = pc.addTransceiver(video || "video", {
        direction: "sendrecv",
        sendEncodings: [this.videoEncoding()],
      }).sender;
      this.openChannel();
      // Start the offer now rather than from the negotiationneeded event: that
      // event is a task queued behind whatever the page does next (building
      // the call's tiles), and creating the offer can overlap with that work.
      // If the event still fires while this offer is being made, it is
      // ignored (makingOffer): this offer covers everything added above.
      this.onNegotiationNeeded(pc);
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
   * @private
   * @param {RTCPeerConnection} pc
   */
  async onNegotiationNeeded(pc) {
    // An offer already under way covers whatever asked for this one.
    if (pc !== this.pc || this.makingOffer) return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      if (pc !== this.pc || pc.signalingState !== "have-local-offer") return;
      this.sendOffer(pc);
      if (this.firstOffer) {
        this.firstOffer = false;
        performance.mark(`meet:offer-sent:${this.id}`);
      }
    } catch (error) {
      // A connection replaced or closed meanwhile fails here; that is expected.
      if (pc === this.pc && !this.closed) console.warn("meet: could not create an offer", error);
    } finally {
      this.makingOffer = false;
    }
  }

  /**
   * @private
   * @param {RTCPeerConnection} pc
   */
  sendOffer(pc) {
    this.offerGen += 1;
    this.send({ type: "offer", sdp: pc.localDescription?.sdp, gen: this.offerGen });
  }

  /**
   * The signaling server was away (ours, or theirs: `peer-resumed`), so
   * whatever it was relaying between us may be lost. A settled pair needs
   * nothing. An offer of ours still unanswered is made again, with an ICE
   * restart (the candidates that went with it may be lost too); its `gen`
   * makes a late answer to the old one harmless.
   */
  resync() {
    if (this.closed || this.makingOffer) return;
    if (this.pc.signalingState === "have-local-offer") this.reoffer(this.pc);
  }

  /**
   * @private
   * @param {RTCPeerConnection} pc
   */
  async reoffer(pc) {
    try {
      this.makingOffer = true;
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      if (pc === this.pc && pc.signalingState === "have-local-offer") this.sendOffer(pc);
    } catch (error) {
      if (pc === this.pc && !this.closed) console.warn("meet: could not offer again", error);
    } finally {
      this.makingOffer = false;
    }
  }

  /**
   * Handle an `offer`, `answer` or `candidate` frame from this peer. Frames are
   * applied one at a time, in arrival order.
   * @param {SignalFrame} message
   * @returns {Promise<void>}
   */
  handle(message) {
    this.queue = this.queue
      .then(() => this.apply(message))
      .catch((error) => {
        console.warn(`meet: signaling from ${this.id} failed`, error);
      });
    return this.queue;
  }

  /**
   * @private
   * @param {SignalFrame} message
   */
  async apply(message) {
    if (this.closed) return;
    if (this.pc.signalingState === "closed") {
      // Our connection was closed under us (see recoverClosed). An offer from
      // a new connection of theirs is answered from a new one of ours (the
      // session check below); any other frame was meant for the dead pair.
      const session = message.type === "offer" ? sdpSessionId(message.sdp) : "";
      if (session && session !== this.remoteSession) this.build(false);
      else if (this.recoverClosed()) return;
    }
    if (message.type === "candidate") {
      await this.addCandidate(message.candidate);
      return;
    }
    const gen = typeof message.gen === "number" ? message.gen : null;
    // Across a signaling outage: an answer to an offer we have since replaced,
    // or an offer older than one already applied, belongs to the past.
    if (message.type === "answer" && gen !== null && gen !== this.offerGen) return;
    if (message.type === "offer" && gen !== null && gen <= this.remoteGen) return;
    const description = /** @type {RTCSessionDescriptionInit} */ ({
      type: message.type,
      sdp: message.sdp,
    });
    if (description.type === "offer") {
      const session = sdpSessionId(description.sdp);
      if (this.remoteSession && session && session !== this.remoteSession) {
        // The other side rebuilt its connection: ours cannot continue that
        // DTLS session, so start a fresh one and answer there.
        this.build(false);
      }
    }
    const pc = this.pc;
    const readyForOffer =
      !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
    const offerCollision = description.type === "offer" && !readyForOffer;
    this.ignoreOffer = !this.polite && offerCollision;
    if (this.ignoreOffer) return;
    if (description.type === "answer" && pc.signalingState !== "have-local-offer") return;

    this.settingRemoteAnswer = description.type === "answer";
    try {
      // The polite side's pending offer, if any, is rolled back implicitly.
      await pc.setRemoteDescription(description);
    } catch (error) {
      this.settingRemoteAnswer = false;
      if (description.type !== "offer") throw error;
      // An offer this connection cannot apply (mismatched m-lines, another
      // DTLS session): recreate the connection and answer from scratch.
      console.warn("meet: rebuilding the connection for an offer", error);
      this.build(false);
      await this.pc.setRemoteDescription(description);
    }
    this.settingRemoteAnswer = false;
    this.remoteSession = sdpSessionId(description.sdp) || this.remoteSession;

    if (description.type === "offer") {
      if (gen !== null) this.remoteGen = gen;
      this.attachToOffer();
      await this.pc.setLocalDescription();
      /** @type {{type: string, sdp: string|undefined, gen?: number}} */
      const answer = { type: "answer", sdp: this.pc.localDescription?.sdp };
      if (gen !== null) answer.gen = gen;
      this.send(answer);
      performance.mark(`meet:answer-sent:${this.id}`);
    } else {
      performance.mark(`meet:answer:${this.id}`);
    }
    this.dispatchEvent(new Event("negotiated"));
  }

  /**
   * @private Answerer side: send our tracks on the transceivers the offer
   * created, and open the negotiated chat channel. Adding them before the
   * offer arrived would have fired negotiationneeded here and caused glare.
   */
  attachToOffer() {
    const pc = this.pc;
    const local = this.tracks();
    for (const transceiver of pc.getTransceivers()) {
      const kind = /** @type {"audio"|"video"} */ (transceiver.receiver.track.kind);
      if (transceiver.currentDirection === "stopped" || this.senders[kind]) continue;
      if (transceiver.sender.track !== local[kind]) {
        transceiver.sender.replaceTrack(local[kind] || null).catch(() => {});
      }
      transceiver.direction = "sendrecv";
      this.senders[kind] = transceiver.sender;
    }
    if (!this.channel) this.openChannel();
  }

  /**
   * @private
   * @param {RTCIceCandidateInit|null|undefined} candidate
   */
  async addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate || undefined);
    } catch (error) {
      // Candidates for an offer we ignored (glare) or for an old connection
      // are expected to fail.
      if (!this.ignoreOffer && this.pc.remoteDescription) {
        console.warn("meet: could not add an ICE candidate", error);
      }
    }
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
    const wanted = this.videoEncoding();
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length === 0) return;
    let changed = false;
    for (const encoding of params.encodings) {
      const fields = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (encoding));
      for (const [key, value] of Object.entries(wanted)) {
        if (value === undefined) {
          if (key in fields) {
            delete fields[key];
            changed = true;
          }
        } else if (fields[key] !== value) {
          fields[key] = value;
          changed = true;
        }
      }
    }
    if (!changed) return;
    try {
      await sender.setParameters(params);
    } catch (error) {
      console.warn("meet: could not apply the video bitrate cap", error);
    }
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
