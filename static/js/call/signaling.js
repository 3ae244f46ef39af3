/**
 * The signaling WebSocket (docs/protocol.md): connect, send, heartbeat and
 * reconnect. Knows close codes (protocol.js), not what the messages mean.
 * No DOM.
 * @module
 */

import { ClientMessage, CloseCode, ServerMessage, shouldReconnect } from "./protocol.js";

const BACKOFF_FIRST_MS = 250;
/** Between calls a server may take its time to come back. */
export const BACKOFF_MAX_MS = 10000;
/**
 * While a call is live the media still flows peer to peer: try again often,
 * so the call is back under the server's control within a few seconds of it
 * being reachable (see `retryNow` for the network coming back).
 */
export const LIVE_BACKOFF_MAX_MS = 2000;

/**
 * Delay before reconnect attempt number `attempt` (0-based): exponential with
 * "equal jitter", so a room full of clients cut off by one server restart does
 * not come back in lockstep.
 * @param {number} attempt
 * @param {number} [cap] the longest delay (ms)
 * @param {() => number} [random] 0 ≤ x < 1
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, cap = BACKOFF_MAX_MS, random = Math.random) {
  const ceiling = Math.min(cap, BACKOFF_FIRST_MS * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * What the call session needs of a signaling connection (`Signaling`
 * below; a fake one in the unit tests).
 * @typedef {EventTarget & {
 *   connect(): void, restart(): void, leave(): void, retryNow(): void,
 *   send(message: {type: string, [key: string]: unknown}): boolean,
 *   readonly isOpen: boolean, readonly stopped: boolean, maxDelay: number,
 * }} SignalingLike
 */

/**
 * One signaling connection that survives drops.
 *
 * Events:
 * - `open`: the socket opened (first time or after a reconnect); send `join` now.
 * - `message`: `detail` is one parsed server frame (never `pong`).
 * - `reconnecting`: `detail` is `{code, delay}`; the socket dropped and will be reopened.
 * - `closed`: `detail` is `{code, reason}`; final, no reconnect (see the protocol's table).
 */
export class Signaling extends EventTarget {
  /**
   * @param {string} url absolute ws:// or wss:// URL
   * @param {{heartbeat?: number}} [options] seconds between pings
   */
  constructor(url, { heartbeat = 10 } = {}) {
    super();
    this.url = url;
    this.heartbeat = heartbeat;
    /** The longest wait between reconnect attempts (ms); shorter while a call is live. */
    this.maxDelay = BACKOFF_MAX_MS;
    /** @type {WebSocket|null} */
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    /** @type {ReturnType<typeof setInterval>|undefined} */
    this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.retryTimer = undefined;
    this.lastHeard = 0;
    this.openedAt = 0;
  }

  /** Open the socket (idempotent while one is open or opening). */
  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      performance.mark("meet:ws-open");
      this.lastHeard = this.openedAt = performance.now();
      this.startHeartbeat();
      this.dispatchEvent(new Event("open"));
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws || typeof event.data !== "string") return;
      this.lastHeard = performance.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message.type !== "string") return;
      if (message.type === ServerMessage.WELCOME) this.attempt = 0;
      if (message.type === ServerMessage.PONG) return;
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.onClose(event.code, event.reason);
    });
  }

  /**
   * @private
   * @param {number} code
   * @param {string} reason
   */
  onClose(code, reason) {
    this.ws = null;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    // A socket that lived a while (e.g. idle before Join, closed with 4408)
    // was not a failed attempt: start the backoff from the beginning.
    if (this.openedAt && performance.now() - this.openedAt > 5000) this.attempt = 0;
    this.openedAt = 0;
    if (shouldReconnect(code)) {
      // A refused resume is an answer, not an outage: join afresh at once.
      const delay =
        code === CloseCode.RESUME_REFUSED ? 0 : backoffDelay(this.attempt++, this.maxDelay);
      this.dispatchEvent(new CustomEvent("reconnecting", { detail: { code, delay } }));
      this.retryTimer = setTimeout(() => this.connect(), delay);
      return;
    }
    this.stopped = true;
    this.dispatchEvent(new CustomEvent("closed", { detail: { code, reason } }));
  }

  /**
   * Skip the wait before the next attempt: the network just came back
   * (`online`) or the page became visible again, so the server is likely
   * reachable right now. Does nothing unless a reconnect is pending.
   */
  retryNow() {
    if (this.stopped || this.ws || this.retryTimer === undefined) return;
    this.connect();
  }

  /** Whether the socket is waiting to be reopened. */
  get reconnecting() {
    return !this.stopped && !this.ws && this.retryTimer !== undefined;
  }

  /** @private */
  startHeartbeat() {
    clearInterval(this.pingTimer);
    const period = this.heartbeat * 1000;
    this.pingTimer = setInterval(() => {
      // A socket on a dead network path never fires `close` by itself: when
      // even pongs stop arriving, drop it and reconnect.
      if (performance.now() - this.lastHeard > period * 2.5) {
        this.drop();
        return;
      }
      this.send({ type: ClientMessage.PING });
    }, period);
  }

  /**
   * Send one frame. Returns false when the socket is not open (the caller
   * redoes what matters after the next `open`).
   * @param {{type: string, [key: string]: unknown}} message
   * @returns {boolean}
   */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Whether the socket is open right now. */
  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Abandon the current socket as if the network had dropped it (reconnects).
   */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    ws.close();
    this.onClose(1006, "");
  }

  /**
   * Leave for good: send `leave` if possible and stop reconnecting.
   */
  leave() {
    this.send({ type: ClientMessage.LEAVE });
    this.close();
  }

  /** Close without reconnecting (no event). */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
  }

  /** Start again after a final close (e.g. "try again" when the room was full). */
  restart() {
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }
}
