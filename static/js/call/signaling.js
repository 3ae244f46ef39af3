/**
 * The signaling WebSocket (docs/protocol.md): connect, send, heartbeat and
 * reconnect. Knows close codes, not what the messages mean. No DOM.
 * @module
 */

/** Close codes after which reconnecting can help (the server went away or restarted). */
const RECONNECT_CODES = new Set([1001, 1005, 1006, 1011, 1012, 1013, 1014, 4408]);

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 10000;

/**
 * Whether the client should reconnect after the socket closed with `code`.
 * @param {number} code
 * @returns {boolean}
 */
export function shouldReconnect(code) {
  return RECONNECT_CODES.has(code);
}

/**
 * Delay before reconnect attempt number `attempt` (0-based): exponential with
 * "equal jitter", so a room full of clients cut off by one server restart does
 * not come back in lockstep.
 * @param {number} attempt
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * One signaling connection that survives drops.
 *
 * Events:
 * - `open`: the socket opened (first time or after a reconnect); send `join` now.
 * - `message`: `detail` is one parsed server frame.
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
    /** @type {WebSocket|null} */
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.pingTimer = 0;
    this.retryTimer = 0;
    this.lastHeard = 0;
  }

  /** Open the socket (idempotent while one is open or opening). */
  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      performance.mark("meet:ws-open");
      this.lastHeard = performance.now();
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
      if (message.type === "welcome") this.attempt = 0;
      if (message.type === "pong") return;
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.onClose(event.code, event.reason);
    });
  }

  /** @private */
  onClose(code, reason) {
    this.ws = null;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    if (shouldReconnect(code)) {
      const delay = backoffDelay(this.attempt++);
      this.dispatchEvent(new CustomEvent("reconnecting", { detail: { code, delay } }));
      this.retryTimer = setTimeout(() => this.connect(), delay);
      return;
    }
    this.stopped = true;
    this.dispatchEvent(new CustomEvent("closed", { detail: { code, reason } }));
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
      this.send({ type: "ping" });
    }, period);
  }

  /**
   * Send one frame. Returns false when the socket is not open (the caller
   * redoes what matters after the next `open`).
   * @param {object} message
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
    this.send({ type: "leave" });
    this.close();
  }

  /** Close without reconnecting (no event). */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
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
