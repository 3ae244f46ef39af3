/**
 * Who leads the call, as the server says (docs/protocol.md, "Hosts in the
 * call"): the room's hosts, or, while none of them is in the call, the
 * acting host (the participant there longest). No DOM, no transport: the
 * session feeds it `welcome` and `acting-host`, and asks it who may do what.
 *
 * The server enforces every host-only message itself; this is for showing
 * the right controls, and for checking peer-to-peer requests (`lower-hand`)
 * that never pass the server.
 * @module
 */

/**
 * @typedef {{acting: string|null, previous: string|null, canHost: boolean,
 *   actingSelf: boolean, announce: boolean}} HostsChange
 */

/**
 * Events (CustomEvent):
 * - `change`: {@link HostsChange}; `announce` is false for the state a
 *   `welcome` brings, true for a change during the call.
 */
export class Hosts extends EventTarget {
  /** @param {boolean} host whether we are one of the room's hosts */
  constructor(host) {
    super();
    this.host = host;
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
   * @param {{selfId: string, host: boolean, acting: string|null}} welcome
   */
  welcome({ selfId, host, acting }) {
    this.selfId = selfId;
    this.host = host;
    this.update(acting, false);
  }

  /**
   * An `acting-host` frame.
   * @param {unknown} peer
   */
  setActing(peer) {
    this.update(typeof peer === "string" && peer ? peer : null, true);
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
    /** @type {HostsChange} */
    const detail = {
      acting,
      previous,
      canHost: this.canHost,
      actingSelf: this.actingSelf,
      announce,
    };
    this.dispatchEvent(new CustomEvent("change", { detail }));
  }
}
