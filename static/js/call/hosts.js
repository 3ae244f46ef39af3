/**
 * Who leads the call, as the server says (docs/protocol.md, "Hosts in the
 * call"): the room's hosts, or, while none of them is in the call, the
 * acting host (the participant there longest); and a host's requests to the
 * server (kick, mute, mute everyone, end). No DOM: the session hands it
 * `welcome` and the messages about hosts from its one `switch`.
 *
 * The server enforces every host-only message itself; this is for showing
 * the right controls, and for checking peer-to-peer requests (`lower-hand`)
 * that never pass the server.
 * @module
 */

import { ClientMessage, ServerMessage } from "./protocol.js";

/**
 * @typedef {{acting: string|null, previous: string|null, canHost: boolean,
 *   actingSelf: boolean, announce: boolean}} HostsChange
 */

/**
 * Events (CustomEvent):
 * - `change`: {@link HostsChange}; `announce` is false for the state a
 *   `welcome` brings, true for a change during the call.
 * - `mute-requested`: `{from}`: a host (or the acting host) asks us to mute;
 *   only our own browser mutes us.
 * - `refused`: the server refused a host-only request of ours (`forbidden`).
 */
export class Hosts extends EventTarget {
  /**
   * @param {boolean} host whether we are one of the room's hosts
   * @param {{send(message: {type: string, [key: string]: unknown}): boolean}} signaling
   */
  constructor(host, signaling) {
    super();
    this.host = host;
    this.signaling = signaling;
    /** @type {string|null} our peer id */
    this.selfId = null;
    /** @type {string|null} the acting host's peer id */
    this.acting = null;
  }

  /** Whether we are the acting host. */
  get actingSelf() {
    return this.acting !== null && this.acting === this.selfId;
  }

  /** Whether we may do what a host may in this call (kick, mute, lower hands). */
  get canHost() {
    return this.host || this.actingSelf;
  }

  /**
   * Whether someone on our roster may act as host.
   * @param {{id: string, host: boolean}} participant
   */
  isHost(participant) {
    return participant.host || participant.id === this.acting;
  }

  /**
   * What a `welcome` says: our peer id, our role, the acting host.
   * @param {{peer: string, host: boolean, acting?: unknown}} welcome
   */
  welcome({ peer, host, acting }) {
    this.selfId = peer;
    this.host = host;
    this.update(peerId(acting), false);
  }

  /**
   * A server message about hosts: `acting-host`, `mute-request`, or an
   * `error` (only `forbidden` concerns us).
   * @param {any} message
   */
  receive(message) {
    switch (message?.type) {
      case ServerMessage.ACTING_HOST:
        this.update(peerId(message.peer), true);
        break;
      case ServerMessage.MUTE_REQUEST:
        // The server checked the asker may; `from` is its stamp, not theirs.
        this.emit("mute-requested", { from: peerId(message.from) });
        break;
      case ServerMessage.ERROR:
        if (message.code === "forbidden") this.emit("refused", {});
        break;
      default:
        break;
    }
  }

  /**
   * Ask the server to remove someone from the call.
   * @param {string} id
   */
  kick(id) {
    this.signaling.send({ type: ClientMessage.KICK, peer: id });
  }

  /**
   * Ask someone to mute. Nobody can be unmuted remotely: there is no message for it.
   * @param {string} id
   */
  mute(id) {
    this.signaling.send({ type: ClientMessage.MUTE, peer: id });
  }

  /** Ask everyone else to mute. */
  muteAll() {
    this.signaling.send({ type: ClientMessage.MUTE, all: true });
  }

  /** End the meeting for everyone (the room's hosts only, not the acting host). */
  end() {
    this.signaling.send({ type: ClientMessage.END });
  }

  /**
   * @private
   * @param {string|null} acting
   * @param {boolean} announce
   */
  update(acting, announce) {
    const previous = this.acting;
    this.acting = acting;
    if (announce && previous === acting) return;
    const { canHost, actingSelf } = this;
    this.emit("change", { acting, previous, canHost, actingSelf, announce });
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

/**
 * A peer id from a server message, or null.
 * @param {unknown} value
 */
function peerId(value) {
  return typeof value === "string" && value ? value : null;
}
