// The socket's reconnect policy, with a fake WebSocket.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

/** @type {FakeWebSocket[]} */
const sockets = [];

class FakeWebSocket extends EventTarget {
  static OPEN = 1;
  /** @param {string} url */
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    /** @type {string[]} */
    this.sent = [];
    sockets.push(this);
  }
  /** @param {string} data */
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  /** @param {number} code */
  closeWith(code) {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "" }));
  }
  /** @param {object} frame */
  receive(frame) {
    this.dispatchEvent(Object.assign(new Event("message"), { data: JSON.stringify(frame) }));
  }
}
/** @type {any} */ (globalThis).WebSocket = FakeWebSocket;

const { Signaling, backoffDelay, BACKOFF_MAX_MS, LIVE_BACKOFF_MAX_MS } = await import(
  "../../static/js/call/signaling.js"
);

/** @type {InstanceType<typeof Signaling>[]} */
const open = [];
afterEach(() => {
  for (const signaling of open.splice(0)) signaling.close();
  sockets.length = 0;
});

test("backoff doubles from 250 ms with equal jitter, up to its cap", () => {
  const low = () => 0;
  const high = () => 0.999999;
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((n) => backoffDelay(n, BACKOFF_MAX_MS, low)),
    [125, 250, 500, 1000, 5000],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((n) => Math.round(backoffDelay(n, BACKOFF_MAX_MS, high))),
    [250, 500, 1000, 2000, 10000],
  );
  // While a call is live the wait stays short.
  assert.ok(backoffDelay(20, LIVE_BACKOFF_MAX_MS, high) <= LIVE_BACKOFF_MAX_MS);
  assert.ok(backoffDelay(20, LIVE_BACKOFF_MAX_MS, low) >= LIVE_BACKOFF_MAX_MS / 2);
});

test("a dropped socket reconnects; retryNow skips the wait", () => {
  const signaling = new Signaling("ws://test/ws/rooms/x/");
  open.push(signaling);
  /** @type {any[]} */
  const events = [];
  signaling.addEventListener("reconnecting", (e) =>
    events.push(/** @type {CustomEvent} */ (e).detail),
  );
  signaling.connect();
  sockets[0].open();
  sockets[0].closeWith(1006);
  assert.equal(events.length, 1);
  assert.equal(events[0].code, 1006);
  assert.equal(signaling.reconnecting, true);
  assert.equal(sockets.length, 1, "waits for the backoff");
  signaling.retryNow();
  assert.equal(sockets.length, 2);
  assert.equal(signaling.reconnecting, false);
  signaling.retryNow();
  assert.equal(sockets.length, 2, "nothing to skip while a socket is opening");
});

test("a final close code stops; messages are parsed and pongs swallowed", () => {
  const signaling = new Signaling("ws://test/ws/rooms/x/");
  open.push(signaling);
  /** @type {any[]} */
  const messages = [];
  /** @type {any[]} */
  const closed = [];
  signaling.addEventListener("message", (e) =>
    messages.push(/** @type {CustomEvent} */ (e).detail),
  );
  signaling.addEventListener("closed", (e) => closed.push(/** @type {CustomEvent} */ (e).detail));
  signaling.connect();
  sockets[0].open();
  assert.equal(signaling.send({ type: "join" }), true);
  sockets[0].receive({ type: "pong" });
  sockets[0].receive({ type: "welcome", peer: "a" });
  sockets[0].dispatchEvent(Object.assign(new Event("message"), { data: "not json" }));
  assert.deepEqual(messages, [{ type: "welcome", peer: "a" }]);
  sockets[0].closeWith(4410);
  assert.deepEqual(closed, [{ code: 4410, reason: "" }]);
  assert.equal(signaling.stopped, true);
  signaling.retryNow();
  assert.equal(sockets.length, 1);
  assert.equal(signaling.send({ type: "ping" }), false);
});

test("a refused resume (4412) reconnects at once, without backing off", () => {
  const signaling = new Signaling("ws://test/ws/rooms/x/");
  open.push(signaling);
  /** @type {any[]} */
  const events = [];
  signaling.addEventListener("reconnecting", (e) =>
    events.push(/** @type {CustomEvent} */ (e).detail),
  );
  signaling.connect();
  sockets[0].open();
  sockets[0].closeWith(4412);
  assert.deepEqual(events, [{ code: 4412, delay: 0 }]);
  assert.equal(signaling.stopped, false);
});
