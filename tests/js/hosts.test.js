// Who leads the call (hosts.js), and how the session follows the server's
// acting-host and mute-request messages, through a fake socket.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { FakeSignaling, FakeTrack, installFakes } from "./fakes.js";

installFakes();
const { Hosts } = await import("../../static/js/call/hosts.js");
const { CallSession } = await import("../../static/js/call/session.js");
const { Chat } = await import("../../static/js/call/chat.js");

/** @type {InstanceType<typeof CallSession>[]} */
const sessions = [];

afterEach(() => {
  for (const session of sessions.splice(0)) session.leave();
});

/** @param {InstanceType<typeof Hosts>} hosts */
function changes(hosts) {
  /** @type {any[]} */
  const seen = [];
  hosts.addEventListener("change", (event) => seen.push(/** @type {CustomEvent} */ (event).detail));
  return seen;
}

test("the acting host has a host's rights; a host has them whoever is acting", () => {
  const hosts = new Hosts(false);
  const seen = changes(hosts);
  hosts.welcome({ selfId: "me", host: false, acting: "other" });
  assert.equal(hosts.canHost, false);
  assert.equal(hosts.isHost({ id: "other", host: false }), true);
  assert.equal(hosts.isHost({ id: "third", host: false }), false);
  hosts.setActing("me");
  assert.deepEqual([hosts.canHost, hosts.actingSelf], [true, true]);
  hosts.setActing(null);
  assert.equal(hosts.canHost, false);
  assert.equal(hosts.isHost({ id: "room-host", host: true }), true);
  assert.deepEqual(
    seen.map(({ acting, previous, canHost, announce }) => [acting, previous, canHost, announce]),
    [
      ["other", null, false, false],
      ["me", "other", true, true],
      [null, "me", false, true],
    ],
  );
  const host = new Hosts(true);
  host.welcome({ selfId: "h", host: true, acting: null });
  assert.equal(host.canHost, true);
});

test("an acting-host frame that changes nothing, or is malformed, says nothing new", () => {
  const hosts = new Hosts(false);
  hosts.welcome({ selfId: "me", host: false, acting: "a" });
  const seen = changes(hosts);
  hosts.setActing("a");
  assert.deepEqual(seen, []);
  for (const bad of [42, "", { peer: "me" }, undefined]) hosts.setActing(bad);
  assert.equal(hosts.acting, null);
  assert.equal(hosts.canHost, false);
  assert.equal(seen.length, 1);
});

/** A member (not a host) in a call with `peers`, the acting host being `acting`. */
function memberInCall(acting = /** @type {string|null} */ (null)) {
  const signaling = new FakeSignaling();
  const session = new CallSession({
    signaling: /** @type {any} */ (signaling),
    chat: new Chat({ name: "Sora" }),
    tracks: () =>
      /** @type {any} */ ({ audio: new FakeTrack("audio"), video: new FakeTrack("video") }),
    budget: { videoKbps: 2500, perPeerMaxKbps: 1500 },
    name: "Sora",
    host: false,
  });
  sessions.push(session);
  session.start();
  session.join("Sora");
  signaling.open();
  const state = { muted: false, camera: true, screen: false };
  signaling.deliver({
    type: "welcome",
    peer: "me",
    name: "Sora",
    host: false,
    acting,
    peers: [
      { peer: "alex", name: "Alex", host: false, state, offer: true, polite: true },
      { peer: "jo", name: "Jo", host: false, state, offer: true, polite: true },
    ],
    ice: { servers: [], policy: "all", expires: 0 },
    resume: "",
    resumed: false,
  });
  /** @type {any[]} */
  const requests = [];
  session.addEventListener("mute-requested", (event) => {
    requests.push(/** @type {CustomEvent} */ (event).detail);
  });
  return { session, signaling, requests };
}

test("welcome and acting-host tell the session who may act as host", () => {
  const { session, signaling } = memberInCall("alex");
  assert.equal(session.hosts.acting, "alex");
  assert.equal(session.hosts.canHost, false);
  signaling.deliver({ type: "acting-host", peer: "me" });
  assert.equal(session.hosts.canHost, true);
  session.mute("jo");
  session.muteAll();
  assert.deepEqual(signaling.sentOf("mute"), [
    { type: "mute", peer: "jo" },
    { type: "mute", all: true },
  ]);
});

test("a mute request is reported with the asker's name from our roster", () => {
  const { signaling, requests } = memberInCall("alex");
  signaling.deliver({ type: "mute-request", from: "alex", name: "Boss" });
  signaling.deliver({ type: "mute-request", from: "someone-gone" });
  assert.deepEqual(requests, [{ by: "Alex" }, { by: null }]);
});

test("a lower-hand from the acting host is obeyed, from anyone else ignored", () => {
  const { session, signaling } = memberInCall("alex");
  session.setHand(true);
  const channel = (/** @type {string} */ id) =>
    /** @type {any} */ (session.roster.get(id)?.pair.channel);
  for (const id of ["alex", "jo"]) channel(id).open();
  channel("jo").receive(JSON.stringify({ type: "lower-hand" }));
  assert.equal(session.gestures.raised, true);
  channel("alex").receive(JSON.stringify({ type: "lower-hand" }));
  assert.equal(session.gestures.raised, false);
  // A host came back: Alex is no longer acting host.
  session.setHand(true);
  signaling.deliver({ type: "acting-host", peer: null });
  channel("alex").receive(JSON.stringify({ type: "lower-hand" }));
  assert.equal(session.gestures.raised, true);
});

test("a refused host-only message is reported", () => {
  const { session, signaling } = memberInCall();
  /** @type {any[]} */
  const errors = [];
  session.addEventListener("server-error", (event) => {
    errors.push(/** @type {CustomEvent} */ (event).detail);
  });
  signaling.deliver({ type: "error", code: "forbidden", message: "Only hosts can kick." });
  assert.deepEqual(errors, [{ code: "forbidden" }]);
});
