import assert from "node:assert/strict";
import { test } from "node:test";

import { LinkReporter, linkLines } from "../../static/js/call/link-report.js";

/**
 * @param {string} id
 * @param {object|null} figures
 */
function participant(id, figures) {
  return /** @type {any} */ ({ id, link: figures === null ? null : { grade: "good", figures } });
}

test("a line per measured pair: path, transport, round trip and loss", () => {
  const lines = linkLines([
    participant("bbb", { path: "relay", transport: "udp", rttMs: 35.24, lossPct: 0.51 }),
    participant("ccc", null),
    participant("ddd", { path: "host", transport: "tcp", rttMs: null, lossPct: null }),
  ]);
  assert.deepEqual(lines, [
    { peer: "bbb", path: "relay", transport: "udp", rtt: 35.2, loss: 0.5 },
    { peer: "ddd", path: "host", transport: "tcp", rtt: null, loss: null },
  ]);
});

test("figures the server would refuse are clamped or left out", () => {
  const [line] = linkLines([
    participant("bbb", { path: null, transport: null, rttMs: Infinity, lossPct: 140 }),
  ]);
  assert.deepEqual(line, { peer: "bbb", path: null, transport: null, rtt: null, loss: 100 });
  const [negative] = linkLines([participant("b", { rttMs: -3, lossPct: Number.NaN })]);
  assert.equal(negative.rtt, 0);
  assert.equal(negative.loss, null);
});

test("the reporter sends every `report` seconds while in the call, and stops after", (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const session = Object.assign(new EventTarget(), {
    phase: "prejoin",
    roster: new Map([["bbb", participant("bbb", { path: "srflx", transport: "udp" })]]),
    /** @type {any[]} */
    sent: [],
    signaling: { send: (/** @type {any} */ frame) => session.sent.push(frame) },
  });
  const signaling = new EventTarget();
  new LinkReporter({ session: /** @type {any} */ (session), signaling });
  const welcome = { type: "welcome", report: 2 };
  signaling.dispatchEvent(new CustomEvent("message", { detail: welcome }));
  const phase = (/** @type {string} */ name) => {
    session.phase = name;
    session.dispatchEvent(new Event("phase"));
  };
  phase("call");
  t.mock.timers.tick(1999);
  assert.equal(session.sent.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(session.sent, [
    {
      type: "links",
      links: [{ peer: "bbb", path: "srflx", transport: "udp", rtt: null, loss: null }],
    },
  ]);
  phase("reconnecting"); // nothing is sent without the server, the timer goes on
  t.mock.timers.tick(2000);
  assert.equal(session.sent.length, 1);
  phase("ended");
  t.mock.timers.tick(10_000);
  assert.equal(session.sent.length, 1);
});
