// The lobby as the session follows it (lobby.js): waiting, knocks, answers,
// the switch, a lost socket while waiting, and a denial (4405).
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { FakeSignaling, FakeTrack, installFakes } from "./fakes.js";

installFakes();
const { CallSession } = await import("../../static/js/call/session.js");
const { Chat } = await import("../../static/js/call/chat.js");
const { EVERYONE } = await import("../../static/js/call/lobby.js");

/** @type {InstanceType<typeof CallSession>[]} */
const sessions = [];

afterEach(() => {
  for (const session of sessions.splice(0)) session.leave();
});

/** A session that has sent `join` on an open fake socket. */
function joining(host = false) {
  const signaling = new FakeSignaling();
  const session = new CallSession({
    signaling: /** @type {any} */ (signaling),
    chat: new Chat({ name: "Sora" }),
    tracks: () =>
      /** @type {any} */ ({ audio: new FakeTrack("audio"), video: new FakeTrack("video") }),
    budget: { videoKbps: 2500, perPeerMaxKbps: 1500 },
    name: "Sora",
    host,
  });
  sessions.push(session);
  session.start();
  session.join("Sora");
  signaling.open();
  return { session, signaling };
}

const WELCOME = {
  type: "welcome",
  peer: "me",
  name: "Sora",
  host: true,
  acting: null,
  room: { code: "abc", name: "Sync", max: 4, locked: false, lobby: true },
  peers: [],
  ice: { servers: [], policy: "all", expires: 0 },
  heartbeat: 10,
  resume: "token",
};

test("a lobby frame puts the session in waiting, and a lost socket joins (and waits) again", () => {
  const { session, signaling } = joining();
  /** @type {any[]} */
  const waits = [];
  session.lobby.addEventListener("waiting", (e) => waits.push(/** @type {any} */ (e).detail));
  signaling.deliver({ type: "lobby", state: "waiting", id: "w1", name: "Sora", host: false });
  assert.equal(session.phase, "waiting");
  assert.deepEqual(waits, [{ host: false }]);
  session.join("Sora"); // Join pressed again while waiting: nothing is sent
  assert.equal(signaling.sentOf("join").length, 1);
  signaling.drop();
  signaling.open();
  assert.equal(signaling.sentOf("join").length, 2);
});

test("admitted, the waiter's welcome puts it in the call", () => {
  const { session, signaling } = joining();
  signaling.deliver({ type: "lobby", state: "waiting", id: "w1", name: "Sora", host: true });
  signaling.deliver({ ...WELCOME, peer: "w1", host: false });
  assert.equal(session.phase, "call");
  assert.equal(session.lobby.on, true);
});

test("denied (4405): the page ends with its message and does not offer to rejoin", () => {
  const { session, signaling } = joining();
  /** @type {any[]} */
  const outcomes = [];
  session.addEventListener("phase", (e) => outcomes.push(/** @type {any} */ (e).detail.outcome));
  signaling.deliver({ type: "lobby", state: "waiting", id: "w1", name: "Sora", host: true });
  signaling.closeFinally(4405);
  assert.equal(session.phase, "ended");
  const last = outcomes.at(-1);
  assert.equal(last.message, "closedDenied");
  assert.equal(last.rejoin, false);
});

test("a host hears knocks once, answers one or all, and flips the switch", () => {
  const { session, signaling } = joining(true);
  signaling.deliver(WELCOME);
  /** @type {any[][]} */
  const lists = [];
  session.lobby.addEventListener("knocks", (e) =>
    lists.push(/** @type {any} */ (e).detail.knocks.map((/** @type {any} */ k) => k.id)),
  );
  signaling.deliver({ type: "knock", id: "a", name: "<b>A</b>", guest: false });
  signaling.deliver({ type: "knock", id: "a", name: "<b>A</b>", guest: false });
  signaling.deliver({ type: "knock", id: "b", name: "B", guest: true });
  assert.deepEqual(lists, [["a"], ["a", "b"]]);
  assert.equal(session.lobby.knocks.get("b")?.guest, true);
  session.lobby.admit("a");
  session.lobby.deny(EVERYONE);
  assert.deepEqual(signaling.sentOf("admit"), [{ type: "admit", id: "a" }]);
  assert.deepEqual(signaling.sentOf("deny"), [{ type: "deny", id: "*" }]);
  signaling.deliver({ type: "knock-gone", id: "a" });
  assert.deepEqual(lists.at(-1), ["b"]);
  session.lobby.setOn(false);
  assert.deepEqual(signaling.sentOf("lobby"), [{ type: "lobby", on: false }]);
  signaling.deliver({ type: "lobby-state", on: false });
  assert.equal(session.lobby.on, false);
});
