// Perfect negotiation and repair of one pair, with two fake peer connections
// wired to each other through a fake relay.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { connections, FakeTrack, installFakes, settle } from "./fakes.js";

installFakes();
const { Peer, sdpSessionId } = await import("../../static/js/call/peer.js");

/** @type {InstanceType<typeof Peer>[]} */
let peers = [];

/**
 * Two peers relaying to each other; `a` is the newcomer (it offers), and
 * `politeA` says which side is polite.
 * @param {{politeA?: boolean, block?: () => boolean}} [options]
 */
function pair({ politeA = true, block = () => false } = {}) {
  /** @type {Record<string, InstanceType<typeof Peer>>} */
  const ends = {};
  /** @type {Record<string, any[]>} */
  const sent = { a: [], b: [] };
  const tracks = () => ({ audio: new FakeTrack("audio"), video: new FakeTrack("video") });
  /**
   * @param {"a"|"b"} me
   * @param {"a"|"b"} other
   * @param {boolean} initiator
   * @param {boolean} polite
   */
  const make = (me, other, initiator, polite) =>
    new Peer({
      id: other,
      polite,
      initiator,
      config: {},
      send: (message) => {
        sent[me].push(message);
        if (block()) return;
        // Relayed later, in order, as the server does.
        setTimeout(() => ends[other]?.handle(/** @type {any} */ ({ ...message, from: me })));
      },
      tracks: /** @type {any} */ (tracks),
      videoEncoding: () => ({ maxBitrate: 1_000_000 }),
    });
  ends.b = make("b", "a", false, !politeA);
  ends.a = make("a", "b", true, politeA);
  peers.push(ends.a, ends.b);
  return { a: ends.a, b: ends.b, sent };
}

/** @param {InstanceType<typeof Peer>} peer */
const pc = (peer) => /** @type {any} */ (peer.pc);

beforeEach(() => {
  connections.length = 0;
});

afterEach(() => {
  for (const peer of peers) peer.close();
  peers = [];
});

test("the newcomer offers at once and the other side answers on the transceivers of the offer", async () => {
  const { a, b, sent } = pair();
  await settle();
  assert.deepEqual(
    sent.a.map((m) => m.type),
    ["offer"],
  );
  assert.deepEqual(
    sent.b.map((m) => m.type),
    ["answer"],
  );
  assert.equal(pc(a).signalingState, "stable");
  assert.equal(pc(b).signalingState, "stable");
  // The answerer sends its tracks on the two transceivers the offer created.
  assert.deepEqual(
    pc(b)
      .getTransceivers()
      .map((/** @type {any} */ t) => [t.receiver.track.kind, !!t.sender.track]),
    [
      ["audio", true],
      ["video", true],
    ],
  );
  // The chat channel and the file channel, both negotiated.
  assert.equal(pc(b).channels.length, 2);
});

test("simultaneous ICE restarts settle: the impolite side's offer wins", async () => {
  const { a, b } = pair({ politeA: true });
  await settle();
  pc(a).restartIce();
  pc(b).restartIce();
  await settle();
  await settle();
  assert.equal(pc(a).signalingState, "stable");
  assert.equal(pc(b).signalingState, "stable");
  // The polite side (a) applied b's offer: its remote description is b's
  // latest offer, and its own colliding offer was rolled back.
  assert.equal(pc(a).remoteDescription.type, "offer");
  assert.equal(pc(b).remoteDescription.type, "answer");
  assert.equal(a.negotiation.ignoreOffer, false);
});

test("an offer from a rebuilt connection (new session id) is answered from a new connection", async () => {
  const { a, b } = pair();
  await settle();
  const before = pc(b);
  a.restart();
  await settle();
  assert.notEqual(pc(b), before, "b rebuilt to follow a's new session");
  assert.equal(before.signalingState, "closed");
  assert.equal(sdpSessionId(pc(b).remoteDescription.sdp), pc(a).session);
  assert.equal(pc(a).signalingState, "stable");
  assert.equal(pc(b).signalingState, "stable");
});

test("both sides pressing Retry at once converge on one pair", async () => {
  const { a, b } = pair({ politeA: true });
  await settle();
  a.restart();
  b.restart();
  await settle();
  await settle();
  assert.equal(pc(a).signalingState, "stable");
  assert.equal(pc(b).signalingState, "stable");
  // Each end's remote description is the other end's current connection.
  assert.equal(sdpSessionId(pc(a).remoteDescription.sdp), pc(b).session);
  assert.equal(sdpSessionId(pc(b).remoteDescription.sdp), pc(a).session);
});

test("a connection closed under us is rebuilt and offers, whichever side it is", async () => {
  const { a, b, sent } = pair({ politeA: false });
  await settle();
  const closed = pc(b);
  const offersBefore = sent.b.filter((m) => m.type === "offer").length;
  closed.close(); // Chromium then closes the data channel: the quickest sign
  await settle();
  assert.notEqual(pc(b), closed);
  assert.equal(sent.b.filter((m) => m.type === "offer").length, offersBefore + 1);
  await settle();
  assert.equal(pc(a).signalingState, "stable");
  assert.equal(sdpSessionId(pc(a).remoteDescription.sdp), pc(b).session);
  assert.equal(b.state, "connecting");
});

test("the pair's state follows the connection and becomes failed after two repair rounds", async () => {
  const { a } = pair({ block: () => true });
  /** @type {string[]} */
  const states = [];
  a.addEventListener("state", (e) => states.push(/** @type {CustomEvent} */ (e).detail.state));
  pc(a).setConnectionState("connected");
  pc(a).setConnectionState("disconnected");
  pc(a).setConnectionState("failed"); // first repair round: an ICE restart
  pc(a).setConnectionState("failed"); // the second round
  assert.deepEqual(states, ["connected", "reconnecting", "failed"]);
  a.restart();
  assert.equal(a.state, "reconnecting", "Retry starts the rounds over");
});

test("a frame for a dead connection's peer is dropped, candidates before an answer are ignored", async () => {
  const { a } = pair({ block: () => true });
  await settle();
  // An answer is only applied in have-local-offer; a second one is dropped.
  await a.handle({ type: "candidate", candidate: { candidate: "" } });
  assert.equal(pc(a).candidates.length, 0);
  assert.equal(pc(a).signalingState, "have-local-offer");
});
