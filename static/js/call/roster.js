/**
 * The people in the call besides us: one map keyed by peer id, each entry
 * holding the person's name, media state, how our pair with them is doing,
 * their stream and the pair itself. Adding someone builds the pair (mesh.js)
 * and follows what it reports; removing them closes it. The session
 * (session.js) decides who comes and goes; the roster keeps each entry and
 * its pair in step, and announces every change through the session. No DOM.
 * @module
 */

import { parseView, VIEW_FRAME } from "./encoding.js";
import { LeaveReason } from "./protocol.js";
import { parseReceiving } from "./silence.js";

/** @typedef {import("./peer.js").Peer} Peer */
/** @typedef {import("./mesh.js").Mesh} Mesh */
/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./gestures.js").Gestures} Gestures */
/** @typedef {import("./files.js").FileTransfers} FileTransfers */
/** @typedef {import("./hosts.js").Hosts} Hosts */

/**
 * @typedef {{muted: boolean, camera: boolean, screen: boolean, hand: boolean}} MediaState
 * @typedef {"connecting"|"connected"|"reconnecting"|"failed"} PairState
 */

/**
 * One person in the call besides us.
 * @typedef {object} Participant
 * @property {string} id their peer id
 * @property {string} name
 * @property {boolean} host
 * @property {boolean} guest joined as a guest, without an account
 * @property {MediaState} state what they send (from `peer-state`)
 * @property {PairState} connection how our pair with them is doing
 * @property {object|null} link link health of the pair (bitrate, loss), when measured
 * @property {Peer} pair our connection to them
 * @property {MediaStream|null} stream what they send us, once it arrived
 * @property {boolean} joinedAfterUs they came after us (they get our chat history)
 * @property {import("./silence.js").Kind[]} [missing] what they say they do not
 *   receive from us (their `receiving` frame; silence.js)
 */

/**
 * A peer as `welcome` and `peer-joined` describe it.
 * @typedef {{peer: string, name: string, host: boolean, guest?: boolean,
 *   state?: Partial<MediaState>, offer: boolean, polite: boolean}} PeerInfo
 */

/** Someone whose state we do not know yet shows as "camera on, nothing else". */
export const DEFAULT_STATE = Object.freeze({
  muted: false,
  camera: true,
  screen: false,
  hand: false,
});

/**
 * Our media state as the server gets it: without the hand, which goes peer
 * to peer with the time it went up (gestures.js).
 * @param {MediaState} state
 */
export function serverState(state) {
  const { hand: _hand, ...media } = state;
  return media;
}

/**
 * Whether an ICE error means the relay cannot be used. 401: the TURN server
 * refused our credentials. With relay-only, any TURN error means there is no
 * path at all. Other ICE errors (an unreachable STUN server on a LAN call)
 * are harmless.
 * @param {{errorCode: number, url: string}} error
 * @param {boolean} relayOnly
 */
export function isRelayProblem({ errorCode, url }, relayOnly) {
  const turn = typeof url === "string" && url.startsWith("turn");
  return turn && (errorCode === 401 || relayOnly);
}

/** @extends {Map<string, Participant>} */
export class Roster extends Map {
  /**
   * @param {object} parts
   * @param {Mesh} parts.mesh builds the pairs
   * @param {Chat} parts.chat
   * @param {Gestures} parts.gestures
   * @param {FileTransfers|null} parts.files file sharing, if offered
   * @param {Hosts} [parts.hosts] who may act as host (their `lower-hand` is obeyed);
   *   without it, the room's hosts
   * @param {(type: string, detail: object) => void} parts.emit the session's events
   */
  constructor({ mesh, chat, gestures, files, hosts, emit }) {
    super();
    this.mesh = mesh;
    this.chat = chat;
    this.gestures = gestures;
    this.files = files;
    this.hosts = hosts || null;
    this.emit = emit;
  }

  /** @returns {Iterable<Peer>} every pair of the call */
  *pairs() {
    for (const participant of this.values()) yield participant.pair;
  }

  /**
   * Put someone on the roster with a new pair.
   * @param {PeerInfo} info
   * @param {boolean} joinedAfterUs
   * @returns {Participant}
   */
  add(info, joinedAfterUs) {
    const pair = this.mesh.connect(info);
    /** @type {Participant} */
    const participant = {
      id: info.peer,
      name: info.name,
      host: !!info.host,
      guest: !!info.guest,
      // Hands travel peer to peer (gestures.js), not in the server's state.
      state: { ...DEFAULT_STATE, ...info.state, hand: this.gestures.queue.has(info.peer) },
      connection: "connecting",
      link: null,
      pair,
      stream: null,
      joinedAfterUs,
    };
    this.set(participant.id, participant);
    this.watch(participant);
    return participant;
  }

  /**
   * Who a `welcome` lists: the people not on the roster yet are added, all
   * pairs first, so every offer is under way before any page work. With our
   * seat resumed, the others' state is brought up to date and each pair makes
   * again whatever the outage may have swallowed.
   * @param {PeerInfo[]} peers
   * @param {boolean} resumed
   * @returns {Participant[]} the people added
   */
  welcome(peers, resumed) {
    // Someone new in a resumed welcome came while we were away (after us).
    const added = peers
      .filter((peer) => !this.has(peer.peer))
      .map((peer) => this.add(peer, resumed));
    if (resumed) {
      for (const peer of peers) {
        const participant = this.get(peer.peer);
        if (!participant || added.includes(participant)) continue;
        this.setState(peer.peer, peer.state || {});
        participant.pair.resync();
      }
    }
    return added;
  }

  /**
   * Take someone off the roster and close our pair with them.
   * @param {string} id
   * @param {string} reason
   * @param {boolean} announce
   */
  remove(id, reason, announce) {
    const participant = this.get(id);
    if (!participant) return;
    this.delete(id);
    participant.pair.close();
    this.mesh.forget(id);
    this.gestures.forget(id);
    this.files?.detach(id);
    this.mesh.applyBudget();
    this.emit("participant-left", { participant, reason, announce });
  }

  /** Everyone off (the call ended or was refused). */
  removeAll() {
    for (const id of [...this.keys()]) this.remove(id, LeaveReason.LEFT, false);
  }

  /**
   * Someone's media state as the server reports it.
   * @param {string} id
   * @param {Partial<MediaState>} state their whole state
   */
  setState(id, state) {
    const participant = this.get(id);
    if (!participant) return;
    // The hand is not the server's: it follows the hands queue (gestures.js).
    participant.state = { ...DEFAULT_STATE, ...state, hand: participant.state.hand };
    this.emit("participant-changed", { participant, change: "state" });
  }

  /** The hand queue changed: each person's hand follows it. */
  syncHands() {
    for (const participant of this.values()) {
      const hand = this.gestures.queue.has(participant.id);
      if (participant.state.hand === hand) continue;
      participant.state = { ...participant.state, hand };
      this.emit("participant-changed", { participant, change: "state" });
    }
  }

  /**
   * @private Follow what a pair reports, while its entry is on the roster.
   * @param {Participant} participant
   */
  watch(participant) {
    const { pair } = participant;
    const current = () => this.get(participant.id) === participant;
    pair.addEventListener("state", (event) => {
      if (!current()) return;
      const { state } = /** @type {CustomEvent<{state: PairState}>} */ (event).detail;
      participant.connection = state;
      this.emit("participant-changed", { participant, change: "connection" });
      if (state === "failed" && this.mesh.relayOnly) this.emit("relay-problem", {});
    });
    pair.addEventListener("stream", (event) => {
      if (!current()) return;
      participant.stream = /** @type {CustomEvent<{stream: MediaStream}>} */ (event).detail.stream;
      this.emit("participant-changed", { participant, change: "stream" });
    });
    pair.addEventListener("channel-open", () => {
      if (!current()) return;
      if (participant.joinedAfterUs && this.chat.hasHistory) {
        pair.sendData(JSON.stringify(this.chat.history()));
      }
      this.gestures.greet(participant.id);
    });
    pair.addEventListener("file-channel", (event) => {
      const { channel } = /** @type {CustomEvent<{channel: RTCDataChannel}>} */ (event).detail;
      if (current()) this.files?.attach(participant.id, channel);
    });
    // The offering side made its channels in the pair's constructor, before this listener.
    if (pair.fileChannel) this.files?.attach(participant.id, pair.fileChannel);
    pair.addEventListener("channel-message", (event) => {
      if (current()) {
        this.receiveData(
          participant,
          /** @type {CustomEvent<{data: string}>} */ (event).detail.data,
        );
      }
    });
    pair.addEventListener("ice-error", (event) => {
      const detail =
        /** @type {CustomEvent<{errorCode: number, url: string, errorText: string}>} */ (event)
          .detail;
      if (isRelayProblem(detail, this.mesh.relayOnly)) {
        console.warn(`meet: TURN error ${detail.errorCode} ${detail.errorText} (${detail.url})`);
        this.emit("relay-problem", {});
      }
    });
  }

  /**
   * @private One frame on a pair's chat channel. Who sent it is the pair it
   * came on, named from our roster: never a name inside the frame.
   * @param {Participant} participant
   * @param {string} data
   */
  receiveData(participant, data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    const { id, name } = participant;
    const sender = { id, name, host: this.hosts?.isHost(participant) ?? participant.host };
    const missing = parseReceiving(frame);
    if (missing) {
      participant.missing = missing;
      return;
    }
    if (frame.type === "chat" || frame.type === "history") this.chat.receive(frame, sender);
    else if (frame.type === "fingerprints") this.emit("fingerprints", { participant, frame });
    else if (frame.type === VIEW_FRAME) {
      const view = parseView(frame);
      if (view) this.mesh.setView(participant.id, view);
    } else this.gestures.receive(frame, sender);
  }
}
