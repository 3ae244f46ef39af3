/**
 * Perfect negotiation for one pair
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): our offers,
 * their offers, answers and candidates applied one at a time in arrival order,
 * glare settled by the `polite` flag the server computed, a rebuilt
 * connection on their side followed, and after a signaling outage an offer
 * that may have been lost made again, with generations (`gen`) keeping late
 * frames harmless. It negotiates on whatever RTCPeerConnection the pair holds
 * right now; building one is the pair's job (peer.js). No DOM.
 * @module
 */

import { withOpusOptions } from "./encoding.js";

/**
 * An `offer`, `answer` or `candidate` frame from the server (`from` stamped).
 * `gen` numbers the offers of one side of the pair; an answer carries the
 * `gen` of the offer it answers (docs/protocol.md, "Resume").
 * @typedef {{type: string, from?: string, sdp?: string, gen?: number,
 *   candidate?: RTCIceCandidateInit|null}} SignalFrame
 */

/**
 * What a pair lends its negotiation.
 * @typedef {object} NegotiationHost
 * @property {string} id the remote peer id (for marks and logs)
 * @property {() => boolean} polite whether we give way in glare
 * @property {() => RTCPeerConnection} pc the pair's connection right now
 * @property {() => boolean} closed whether the pair was closed for good
 * @property {(message: {type: string, [key: string]: unknown}) => void} send
 *   a signaling frame to this peer
 * @property {() => void} rebuild replace the connection with a fresh one that answers
 * @property {() => boolean} recoverClosed rebuild and offer if the connection
 *   was closed under us; whether it was
 * @property {() => void} attach answerer: our tracks and the chat channel on
 *   the transceivers the offer created
 * @property {() => void} negotiated a negotiation finished
 */

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
 * Whether a description from the other side belongs to the past: an answer
 * to an offer we have since replaced, or an offer older than one already
 * applied (across a signaling outage). Frames without `gen` are current.
 * @param {SignalFrame} message
 * @param {{offerGen: number, remoteGen: number}} gens ours, and theirs applied
 */
export function isStale(message, { offerGen, remoteGen }) {
  if (typeof message.gen !== "number") return false;
  if (message.type === "answer") return message.gen !== offerGen;
  return message.type === "offer" && message.gen <= remoteGen;
}

/**
 * Whether an offer arriving now collides with one of ours (glare): we are
 * making one, or one is waiting for its answer. An answer being applied
 * settles ours, so an offer right behind it is no collision.
 * @param {{makingOffer: boolean, signalingState: RTCSignalingState,
 *   settingRemoteAnswer: boolean}} now
 */
export function offerCollides({ makingOffer, signalingState, settingRemoteAnswer }) {
  return makingOffer || (signalingState !== "stable" && !settingRemoteAnswer);
}

export class Negotiation {
  /** @param {NegotiationHost} host */
  constructor(host) {
    this.host = host;
    /** Frames from the other side, applied one at a time. */
    this.queue = Promise.resolve();
    this.firstOffer = true;
    /** The generation of our latest offer (they answer with it). */
    this.offerGen = 0;
    /** The generation of the latest offer of theirs we applied. */
    this.remoteGen = -1;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    /** The session id of their connection we negotiate with ("" before any). */
    this.remoteSession = "";
  }

  /** A new connection of ours: nothing is under way on it. */
  reset() {
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.remoteSession = "";
  }

  /**
   * Make and send an offer on `pc` (negotiationneeded, or a new connection).
   * @param {RTCPeerConnection} pc
   */
  async offer(pc) {
    // An offer already under way covers whatever asked for this one.
    if (pc !== this.host.pc() || this.makingOffer) return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      if (pc !== this.host.pc() || pc.signalingState !== "have-local-offer") return;
      this.sendOffer(pc);
      if (this.firstOffer) {
        this.firstOffer = false;
        performance.mark(`meet:offer-sent:${this.host.id}`);
      }
    } catch (error) {
      // A connection replaced or closed meanwhile fails here; that is expected.
      if (pc === this.host.pc() && !this.host.closed()) {
        console.warn("meet: could not create an offer", error);
      }
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
    this.host.send({ type: "offer", sdp: pc.localDescription?.sdp, gen: this.offerGen });
  }

  /**
   * The signaling server was away (ours, or theirs: `peer-resumed`), so
   * whatever it was relaying between us may be lost. A settled pair needs
   * nothing. An offer of ours still unanswered is made again, with an ICE
   * restart (the candidates that went with it may be lost too); its `gen`
   * makes a late answer to the old one harmless.
   */
  resync() {
    if (this.host.closed() || this.makingOffer) return;
    const pc = this.host.pc();
    if (pc.signalingState === "have-local-offer") this.reoffer(pc);
  }

  /**
   * @private
   * @param {RTCPeerConnection} pc
   */
  async reoffer(pc) {
    try {
      this.makingOffer = true;
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      if (pc === this.host.pc() && pc.signalingState === "have-local-offer") this.sendOffer(pc);
    } catch (error) {
      if (pc === this.host.pc() && !this.host.closed()) {
        console.warn("meet: could not offer again", error);
      }
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
        console.warn(`meet: signaling from ${this.host.id} failed`, error);
      });
    return this.queue;
  }

  /**
   * @private
   * @param {SignalFrame} message
   */
  async apply(message) {
    const host = this.host;
    if (host.closed()) return;
    if (host.pc().signalingState === "closed") {
      // Our connection was closed under us (see Peer.recoverClosed). An offer
      // from a new connection of theirs is answered from a new one of ours
      // (the session check below); any other frame was meant for the dead pair.
      const session = message.type === "offer" ? sdpSessionId(message.sdp) : "";
      if (session && session !== this.remoteSession) host.rebuild();
      else if (host.recoverClosed()) return;
    }
    if (message.type === "candidate") {
      await this.addCandidate(message.candidate);
      return;
    }
    if (isStale(message, this)) return;
    const gen = typeof message.gen === "number" ? message.gen : null;
    const description = /** @type {RTCSessionDescriptionInit} */ ({
      type: message.type,
      // Ask our Opus encoder for in-band FEC and DTX (encoding.js).
      sdp: typeof message.sdp === "string" ? withOpusOptions(message.sdp) : message.sdp,
    });
    if (description.type === "offer") {
      const session = sdpSessionId(description.sdp);
      if (this.remoteSession && session && session !== this.remoteSession) {
        // The other side rebuilt its connection: ours cannot continue that
        // DTLS session, so start a fresh one and answer there.
        host.rebuild();
      }
    }
    const pc = host.pc();
    const collision =
      description.type === "offer" &&
      offerCollides({
        makingOffer: this.makingOffer,
        signalingState: pc.signalingState,
        settingRemoteAnswer: this.settingRemoteAnswer,
      });
    this.ignoreOffer = !host.polite() && collision;
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
      host.rebuild();
      await host.pc().setRemoteDescription(description);
    }
    this.settingRemoteAnswer = false;
    this.remoteSession = sdpSessionId(description.sdp) || this.remoteSession;

    if (description.type === "offer") {
      if (gen !== null) this.remoteGen = gen;
      host.attach();
      await host.pc().setLocalDescription();
      /** @type {{type: string, sdp: string|undefined, gen?: number}} */
      const answer = { type: "answer", sdp: host.pc().localDescription?.sdp };
      if (gen !== null) answer.gen = gen;
      host.send(answer);
      performance.mark(`meet:answer-sent:${host.id}`);
    } else {
      performance.mark(`meet:answer:${host.id}`);
    }
    host.negotiated();
  }

  /**
   * @private
   * @param {RTCIceCandidateInit|null|undefined} candidate
   */
  async addCandidate(candidate) {
    try {
      await this.host.pc().addIceCandidate(candidate || undefined);
    } catch (error) {
      // Candidates for an offer we ignored (glare) or for an old connection
      // are expected to fail.
      if (!this.ignoreOffer && this.host.pc().remoteDescription) {
        console.warn("meet: could not add an ICE candidate", error);
      }
    }
  }
}
