/**
 * The lobby (docs/protocol.md, "The lobby"), as the session hands it the
 * server's frames: for someone waiting, whether a host is in the call to let
 * them in; for a host, who knocks, and the answers (admit, deny, one or
 * all) and the room's lobby switch. No DOM. The server enforces who may
 * answer; this only decides what the page shows.
 * @module
 */

import { ClientMessage, ServerMessage } from "./protocol.js";

/** `admit` / `deny` with this id answer everyone waiting. */
export const EVERYONE = "*";

/** @typedef {{id: string, name: string, guest: boolean}} Knock */

/**
 * Events (CustomEvent):
 * - `waiting`: `{host}`: we wait; `host` says whether a host is in the call.
 * - `knocks`: `{knocks}`: the people waiting, in the order they knocked (hosts).
 * - `state`: `{on, announce}`: the room's lobby is on or off.
 */
export class Lobby extends EventTarget {
  /**
   * @param {{send(message: {type: string, [key: string]: unknown}): boolean}} signaling
   */
  constructor(signaling) {
    super();
    this.signaling = signaling;
    this.on = false;
    /** @type {Map<string, Knock>} */
    this.knocks = new Map();
  }

  /**
   * What a `welcome` says: whether the lobby is on. Knocks heard before it
   * belong to an earlier seat (a new one hears them again).
   * @param {{room?: {lobby?: unknown}}} welcome
   */
  welcome(welcome) {
    this.knocks.clear();
    this.emitKnocks();
    this.on = welcome.room?.lobby === true;
    this.emit("state", { on: this.on, announce: false });
  }

  /**
   * One of the lobby's server frames.
   * @param {any} message
   */
  receive(message) {
    switch (message?.type) {
      case ServerMessage.LOBBY:
        this.emit("waiting", { host: message.host === true });
        break;
      case ServerMessage.KNOCK:
        if (typeof message.id !== "string" || this.knocks.has(message.id)) break;
        this.knocks.set(message.id, {
          id: message.id,
          name: typeof message.name === "string" ? message.name : "",
          guest: message.guest === true,
        });
        this.emitKnocks();
        break;
      case ServerMessage.KNOCK_GONE:
        if (this.knocks.delete(message.id)) this.emitKnocks();
        break;
      case ServerMessage.LOBBY_STATE:
        this.on = message.on === true;
        this.emit("state", { on: this.on, announce: true });
        break;
      default:
        break;
    }
  }

  /**
   * Let one person in (or everyone, with `EVERYONE`).
   * @param {string} id
   */
  admit(id) {
    this.signaling.send({ type: ClientMessage.ADMIT, id });
  }

  /**
   * Turn one person away (or everyone, with `EVERYONE`).
   * @param {string} id
   */
  deny(id) {
    this.signaling.send({ type: ClientMessage.DENY, id });
  }

  /**
   * Turn the room's lobby on or off (hosts).
   * @param {boolean} on
   */
  setOn(on) {
    this.signaling.send({ type: ClientMessage.LOBBY, on });
  }

  /** @private */
  emitKnocks() {
    this.emit("knocks", { knocks: [...this.knocks.values()] });
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
