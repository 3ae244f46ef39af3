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
  /** @type {any[]} */
  const seen = [];
  hosts.addEventListener("change", (event) => seen.push(/** @type {CustomEvent} */ (event).detail));
  return seen;
}

/** A `Hosts` that sends on an open fake socket. */
function makeHosts(host = false) {
  const signaling = new FakeSignaling();
  signaling.open();
  return { hosts: new Hosts(host, signaling), signaling };
}

test("the acting host has a host's rights; a host has them whoever is acting", () => {
  const { hosts } = makeHosts();
  const seen = changes(hosts);
  hosts.welcome({ peer: "me", host: false, acting: "other" });
  assert.equal(hosts.canHost, false);
  assert.equal(hosts.isHost({ id: "other", host: false }), true);
  assert.equal(hosts.isHost({ id: "third", host: false }), false);
  hosts.receive({ type: "acting-host", peer: "me" });
  assert.deepEqual([hosts.canHost, hosts.actingSelf], [true, true]);
  hosts.receive({ type: "acting-host", peer: null });
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
  const { hosts: host } = makeHosts(true);
  host.welcome({ peer: "h", host: true, acting: null });
  assert.equal(host.canHost, true);
});

test("an acting-host frame that changes nothing, or is malformed, says nothing new", () => {
  const { hosts } = makeHosts();
  hosts.welcome({ peer: "me", host: false, acting: "a" });
  const seen = changes(hosts);
  hosts.receive({ type: "acting-host", peer: "a" });
  assert.deepEqual(seen, []);
  for (const bad of [42, "", { peer: "me" }, undefined]) {
    hosts.receive({ type: "acting-host", peer: bad });
  }
  assert.equal(hosts.acting, null);
  assert.equal(hosts.canHost, false);
  assert.equal(seen.length, 1);
});

test("a host's requests are the protocol's messages; there is none to unmute", () => {
  const { hosts, signaling } = makeHosts(true);
  hosts.kick("alex");
  hosts.mute("jo");
  hosts.muteAll();
  hosts.end();
  assert.deepEqual(signaling.sent, [
    { type: "kick", peer: "alex" },
    { type: "mute", peer: "jo" },
    { type: "mute", all: true },
    { type: "end" },
  ]);
  assert.equal("unmute" in hosts, false);
});

test("a mute request names who asked as the server stamped it; a refusal is reported", () => {
  const { hosts } = makeHosts();
  /** @type {any[]} */
  /** @type {any[]} */
  const seen = [];
  for (const type of ["mute-requested", "refused"]) {
    hosts.addEventListener(type, (event) => {
      seen.push([type, /** @type {CustomEvent} */ (event).detail]);
    });
  }
  hosts.receive({ type: "mute-request", from: "alex", name: "Boss" });
  hosts.receive({ type: "mute-request" });
  hosts.receive({ type: "error", code: "unknown-peer", message: "No peer x." });
  hosts.receive({ type: "error", code: "forbidden", message: "Only hosts can kick." });
  assert.deepEqual(seen, [
    ["mute-requested", { from: "alex" }],
    ["mute-requested", { from: null }],
    ["refused", {}],
  ]);
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
  return { session, signaling };
}

test("welcome and acting-host reach the session's hosts", () => {
  const { session, signaling } = memberInCall("alex");
  assert.equal(session.hosts.acting, "alex");
  assert.equal(session.hosts.canHost, false);
  signaling.deliver({ type: "acting-host", peer: "me" });
  assert.equal(session.hosts.canHost, true);
  session.hosts.mute("jo");
  assert.deepEqual(signaling.sentOf("mute"), [{ type: "mute", peer: "jo" }]);
  /** @type {string[]} */
  const seen = [];
  session.hosts.addEventListener("mute-requested", () => seen.push("mute"));
  session.hosts.addEventListener("refused", () => seen.push("refused"));
  signaling.deliver({ type: "mute-request", from: "alex" });
  signaling.deliver({ type: "error", code: "forbidden", message: "Only hosts can kick." });
  assert.deepEqual(seen, ["mute", "refused"]);
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
