/**
 * The call, as one model: the phase this page is in, the roster of the people
 * in the call (roster.js: one map, keyed by peer id, holding each person's
 * pair), the one `switch` over the server's messages, and what a close code
 * means. No DOM:
 * the page renders what this reports (ui/), and main.js wires the two.
 *
 * Phases:
 *
 *     prejoin ──join()──▶ joining ──welcome──▶ call ◀──welcome── reconnecting
 *                          │  │ ▲                │  └──socket lost──▶ ┘
 *                          │ lobby welcome (admitted)
 *                          │  ▼ │
 *                          │ waiting ── denied (4405) ──▶ ended
 *                          └─ full/locked ─▶ refused ──join()──▶ joining
 *
 * While `waiting` (the room's lobby, lobby.js) the socket stays open and the
 * preview stays on the pre-join screen; a lost socket joins again, and waits
 * again.
 *     any ── final close / leave() ──▶ ended
 *
 * While `reconnecting`, the roster and every pair are kept: media and chat go
 * peer to peer and do not need the server. The next `join` carries the
 * resume token of our seat. A resumed `welcome` (our old peer id) reconciles:
 * the pairs go on, people who left meanwhile are dropped, newcomers added, and
 * an offer of ours that the outage may have swallowed is made again. A
 * refused token (4412) makes the socket join afresh at once; with a new id
 * the others know us under a new name, so every pair starts over.
 * @module
 */

import { Gestures, SELF } from "./gestures.js";
import { Hosts } from "./hosts.js";
import { Lobby } from "./lobby.js";
import { Mesh } from "./mesh.js";
import { ClientMessage, CloseCode, closeOutcome, LeaveReason, ServerMessage } from "./protocol.js";
import { DEFAULT_STATE, Roster, serverState } from "./roster.js";
import { BACKOFF_MAX_MS, LIVE_BACKOFF_MAX_MS } from "./signaling.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./protocol.js").Outcome} Outcome */
/** @typedef {import("./mesh.js").IceConfig} IceConfig */
/** @typedef {import("./roster.js").MediaState} MediaState */
/** @typedef {import("./roster.js").PairState} PairState */
/** @typedef {import("./roster.js").Participant} Participant */
/** @typedef {import("./roster.js").PeerInfo} PeerInfo */
/** @typedef {import("./signaling.js").SignalingLike} SignalingLike */
/** @typedef {"prejoin"|"joining"|"waiting"|"call"|"reconnecting"|"refused"|"ended"} Phase */

/**
 * The call on this page.
 *
 * Events (each a CustomEvent):
 * - `phase`: `{phase, previous, outcome}` (`outcome` for `refused` and `ended`).
 * - `participant-joined`: `{participant, announce}`; `announce` is false for the
 *   people already there when we came in.
 * - `participant-left`: `{participant, reason, announce}`.
 * - `participant-changed`: `{participant, change}`, `change` being `state`,
 *   `connection` or `stream`.
 * - `self`: `{name, host, state}`: our own name or media state changed.
 * - `relay-problem`: TURN refused us, or a relay-only pair failed.
 * - `fingerprints`: `{participant, frame}`, a `fingerprints` frame on their
 *   channel, for the safety check (safety-check.js; roster.js passes it on).
 *
 * Reactions and raised hands are `gestures`' own events (gestures.js); who
 * leads the call, and a host's requests, are `hosts`' (hosts.js); the
 * lobby's, `lobby`'s (lobby.js).
 */
export class CallSession extends EventTarget {
  /**
   * @param {object} options
   * @param {SignalingLike} options.signaling
   * @param {Chat} options.chat
   * @param {() => {audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} options.tracks
   *   what we send right now
   * @param {{videoKbps: number, perPeerMaxKbps: number}} options.budget
   * @param {string} options.name our display name until the server says otherwise
   * @param {boolean} options.host
   * @param {import("./files.js").FileTransfers} [options.files] file sharing, if offered
   */
  constructor({ signaling, chat, tracks, budget, name, host, files }) {
    super();
    this.signaling = signaling;
    this.chat = chat;
    /** @type {Phase} */
    this.phase = "prejoin";
    /** Our peer id in the call (null before the first `welcome`). */
    this.selfId = /** @type {string|null} */ (null);
    /** Lets the next `join` take our seat back (from `welcome` / `resume-token`). */
    this.resumeToken = /** @type {string|null} */ (null);
    this.name = name;
    this.host = host;
    /** @type {MediaState} what we send, and tell the others */
    this.me = { ...DEFAULT_STATE };
    this.mesh = new Mesh({
      send: (message) => signaling.send(message),
      tracks,
      budget,
      pairs: () => this.roster.pairs(),
    });
    /** Raised hands and reactions, over the pairs' channels. */
    this.gestures = new Gestures({
      broadcast: (frame) => this.mesh.broadcast(JSON.stringify(frame)),
      sendTo: (id, frame) => !!this.roster.get(id)?.pair.sendData(JSON.stringify(frame)),
    });
    this.files = files || null;
    this.hosts = new Hosts(host, signaling);
    this.lobby = new Lobby(signaling);
    /** @type {Roster} everyone else in the call, each with our pair with them */
    this.roster = new Roster({
      mesh: this.mesh,
      chat,
      gestures: this.gestures,
      files: this.files,
      hosts: this.hosts,
      emit: (type, detail) => this.emit(type, detail),
    });
    this.gestures.addEventListener("hands", () => this.syncHands());
    signaling.addEventListener("open", () => this.onOpen());
    signaling.addEventListener("reconnecting", (event) => {
      this.onReconnecting(/** @type {CustomEvent<{code: number}>} */ (event).detail.code);
    });
    signaling.addEventListener("closed", (event) => {
      this.onClosed(/** @type {CustomEvent<{code: number}>} */ (event).detail.code);
    });
    signaling.addEventListener("message", (event) => {
      this.receive(/** @type {CustomEvent<{type: string}>} */ (event).detail);
    });
  }

  // --- Reading -------------------------------------------------------------------

  /** Whether we hold a seat in the call (also while the server is away). */
  get inCall() {
    return this.phase === "call" || this.phase === "reconnecting";
  }

  // --- What the person does ------------------------------------------------------

  /** Open the socket ahead of Join, so joining costs one message. */
  start() {
    this.signaling.connect();
  }

  /**
   * Join the call (or try again after `refused`).
   * @param {string} [name] the name typed on the pre-join screen
   */
  join(name) {
    if (this.inCall || this.phase === "ended" || this.phase === "waiting") return;
    performance.mark("meet:join-click");
    if (name) this.name = name;
    this.setPhase("joining");
    if (this.signaling.isOpen) this.sendJoin();
    else if (this.signaling.stopped) this.signaling.restart();
    else this.signaling.connect();
  }

  /**
   * Change what we send (muted, camera, screen, hand) and tell the others.
   * Before joining, and while the server is away, it is only recorded: `join`
   * carries the whole state.
   * @param {Partial<MediaState>} changes
   */
  setState(changes) {
    Object.assign(this.me, changes);
    if (this.phase === "call") this.signaling.send({ type: ClientMessage.STATE, state: changes });
    this.emit("self", { name: this.name, host: this.host, state: { ...this.me } });
  }

  /**
   * Raise or lower our hand (peer to peer: gestures.js).
   * @param {boolean} up
   */
  setHand(up) {
    this.gestures.setHand(up);
  }

  /**
   * Send a reaction to everyone.
   * @param {string} emoji
   */
  react(emoji) {
    this.gestures.react(emoji);
  }

  /**
   * Lower someone's hand: ours, or (hosts) anyone's.
   * @param {string} id a peer id, or `SELF`
   */
  lowerHand(id) {
    this.gestures.lowerHandOf(id);
  }

  /**
   * Send a chat message to everyone whose channel is open.
   * @param {string} text
   * @returns {number} how many people it went to (-1: empty or too long)
   */
  sendChat(text) {
    let message;
    try {
      message = this.chat.compose(text);
    } catch {
      return -1;
    }
    return this.mesh.broadcast(JSON.stringify(message));
  }

  /**
   * Start one pair over (the person pressed Retry on its tile).
   * @param {string} id
   */
  retryPair(id) {
    this.roster.get(id)?.pair.restart();
  }

  /** Leave the call: tell the server, close every pair. */
  leave() {
    if (this.phase === "ended") return;
    this.signaling.leave();
    this.finish({ kind: "ended", message: "left", rejoin: true, joinHere: false, login: false });
  }

  /**
   * The network came back or the page became visible: if the socket is
   * waiting to reconnect, try now rather than at the end of the backoff.
   */
  retryNow() {
    this.signaling.retryNow();
  }

  // --- The server's messages -----------------------------------------------------

  /** @private */
  onOpen() {
    const joining = ["joining", "waiting", "reconnecting"];
    if (joining.includes(this.phase)) this.sendJoin();
  }

  /** @private */
  sendJoin() {
    this.chat.name = this.name;
    /** @type {{type: string, name: string, state: ReturnType<typeof serverState>, resume?: string}} */
    const join = { type: ClientMessage.JOIN, name: this.name, state: serverState(this.me) };
    if (this.phase === "reconnecting" && this.resumeToken) join.resume = this.resumeToken;
    this.signaling.send(join);
    performance.mark("meet:join-sent");
  }

  /**
   * @private Before Join the server closes idle sockets (4408): reconnect silently.
   * @param {number} code
   */
  onReconnecting(code) {
    // Our seat is gone (or the token was no good): the next join is a fresh one.
    if (code === CloseCode.RESUME_REFUSED) this.resumeToken = null;
    if (this.phase === "call") this.setPhase("reconnecting");
  }

  /**
   * @private
   * @param {number} code
   */
  onClosed(code) {
    const outcome = closeOutcome(code, { joined: this.inCall });
    if (outcome.kind === "left") return;
    if (outcome.kind === "refused") {
      this.roster.removeAll();
      this.setPhase("refused", outcome);
      return;
    }
    this.finish(outcome);
  }

  /**
   * Handle one server frame: the protocol's every message, in one place.
   * @param {any} message
   */
  receive(message) {
    switch (message.type) {
      case ServerMessage.WELCOME:
        this.onWelcome(message);
        break;
      case ServerMessage.PEER_JOINED:
        this.addParticipant(message.peer, true);
        break;
      case ServerMessage.PEER_LEFT:
        this.roster.remove(message.peer, message.reason, true);
        break;
      case ServerMessage.PEER_STATE:
        this.roster.setState(message.peer, message.state);
        break;
      case ServerMessage.PEER_RESUMED:
        // Same person, same pair: only what the outage swallowed is redone.
        this.roster.setState(message.peer, message.state);
        this.roster.get(message.peer)?.pair.resync();
        break;
      case ServerMessage.RESUME_TOKEN:
        this.resumeToken = message.token;
        break;
      case ServerMessage.OFFER:
      case ServerMessage.ANSWER:
      case ServerMessage.CANDIDATE:
        // The server announces a newcomer before relaying its offer
        // (signaling/consumers.py), so an unknown sender has already left.
        this.roster.get(message.from)?.pair.handle(message);
        break;
      case ServerMessage.ICE_SERVERS:
        this.mesh.setIce(message.ice);
        break;
      case ServerMessage.LOBBY:
        if (this.phase === "joining") this.setPhase("waiting");
        this.lobby.receive(message);
        break;
      case ServerMessage.KNOCK:
      case ServerMessage.KNOCK_GONE:
      case ServerMessage.LOBBY_STATE:
        this.lobby.receive(message);
        break;
      case ServerMessage.ACTING_HOST:
      case ServerMessage.MUTE_REQUEST:
        this.hosts.receive(message);
        break;
      case ServerMessage.ERROR:
        console.warn(`meet: server error ${message.code}: ${message.message}`);
        this.hosts.receive(message);
        break;
      default:
        break;
    }
  }

  /**
   * @private
   * @param {{peer: string, name: string, host: boolean, acting?: string|null, peers: PeerInfo[],
   *   ice: IceConfig, resume?: string, resumed?: boolean, room?: {lobby?: boolean}}} message
   */
  onWelcome(message) {
    performance.mark("meet:welcome");
    this.mesh.setIce(message.ice);
    this.resumeToken = message.resume || null;
    const resumed = message.resumed === true && message.peer === this.selfId;
    const present = new Set(message.peers.map((peer) => peer.peer));
    for (const id of [...this.roster.keys()]) {
      // A new peer id: the others know us under a new name, every pair starts
      // over. Resumed: only those who left while the server was away go.
      if (!resumed || !present.has(id)) this.roster.remove(id, LeaveReason.LEFT, resumed);
    }
    this.selfId = message.peer;
    this.name = message.name;
    this.host = message.host;
    this.chat.name = message.name;
    this.hosts.welcome(message);
    this.lobby.welcome(message);
    const added = this.roster.welcome(message.peers, resumed);
    this.mesh.applyBudget();
    this.setPhase("call");
    for (const participant of added) {
      this.emit("participant-joined", { participant, announce: resumed });
    }
  }

  /**
   * @private
   * @param {PeerInfo} info
   * @param {boolean} announce
   */
  addParticipant(info, announce) {
    if (!this.inCall) return;
    this.roster.remove(info.peer, LeaveReason.REPLACED, false);
    const participant = this.roster.add(info, !info.offer);
    this.mesh.applyBudget();
    this.emit("participant-joined", { participant, announce });
  }

  /** @private The hand queue changed: each tile's hand follows it. */
  syncHands() {
    this.roster.syncHands();
    const mine = this.gestures.queue.has(SELF);
    if (this.me.hand !== mine) {
      this.me.hand = mine;
      this.emit("self", { name: this.name, host: this.host, state: { ...this.me } });
    }
  }

  /**
   * @private The call is over on this page.
   * @param {Outcome} outcome
   */
  finish(outcome) {
    this.roster.removeAll();
    this.mesh.close();
    this.setPhase("ended", outcome);
  }

  /**
   * @private
   * @param {Phase} phase
   * @param {Outcome|null} [outcome]
   */
  setPhase(phase, outcome = null) {
    const previous = this.phase;
    this.phase = phase;
    // While a call is live the media does not wait for the server, but
    // people do: keep the reconnect attempts close together.
    this.signaling.maxDelay = this.inCall ? LIVE_BACKOFF_MAX_MS : BACKOFF_MAX_MS;
    if (phase !== previous || outcome) this.emit("phase", { phase, previous, outcome });
  }

  /**
   * @private
   * @param {string} type
   * @param {object} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
