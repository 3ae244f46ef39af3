// Perfect negotiation's decisions (negotiation.js), and one pair's offers
// and answers across a signaling outage, on a lone fake peer connection.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakePeerConnection, installFakes, settle } from "./fakes.js";

installFakes();
const { isStale, Negotiation, offerCollides, sdpSessionId } = await import(
  "../../static/js/call/negotiation.js"
);

test("sdpSessionId reads the o= line", () => {
  assert.equal(
    sdpSessionId("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"),
    "4611731400430051336",
  );
  assert.equal(sdpSessionId(undefined), "");
});

test("an answer to a replaced offer and an offer older than one applied are stale", () => {
  const gens = { offerGen: 3, remoteGen: 5 };
  assert.equal(isStale({ type: "answer", gen: 2 }, gens), true);
  assert.equal(isStale({ type: "answer", gen: 3 }, gens), false);
  assert.equal(isStale({ type: "offer", gen: 5 }, gens), true);
  assert.equal(isStale({ type: "offer", gen: 6 }, gens), false);
  // Without generations (an older peer), nothing is stale.
  assert.equal(isStale({ type: "answer" }, gens), false);
  assert.equal(isStale({ type: "offer" }, gens), false);
});

test("an offer collides while we make one or wait for its answer, not behind an answer", () => {
  const now = { makingOffer: false, signalingState: "stable", settingRemoteAnswer: false };
  assert.equal(offerCollides(/** @type {any} */ (now)), false);
  assert.equal(offerCollides(/** @type {any} */ ({ ...now, makingOffer: true })), true);
  const waiting = { ...now, signalingState: "have-local-offer" };
  assert.equal(offerCollides(/** @type {any} */ (waiting)), true);
  assert.equal(
    offerCollides(/** @type {any} */ ({ ...waiting, settingRemoteAnswer: true })),
    false,
  );
});

/** A negotiation on one fake connection, recording what it sends. */
function lone() {
  const pc = /** @type {any} */ (new FakePeerConnection());
  /** @type {any[]} */
  const sent = [];
  let negotiated = 0;
  const negotiation = new Negotiation({
    id: "bbb",
    polite: () => true,
    pc: () => pc,
    closed: () => false,
    send: (message) => sent.push(message),
    rebuild: () => assert.fail("no rebuild expected"),
    recoverClosed: () => false,
    attach: () => {},
    negotiated: () => {
      negotiated += 1;
    },
  });
  return { pc, sent, negotiation, negotiated: () => negotiated };
}

test("after an outage an unanswered offer is made again; only its answer counts", async () => {
  const { pc, sent, negotiation, negotiated } = lone();
  await negotiation.offer(pc);
  assert.deepEqual(
    sent.map((m) => [m.type, m.gen]),
    [["offer", 1]],
  );
  negotiation.resync();
  await settle();
  assert.deepEqual(
    sent.map((m) => [m.type, m.gen]),
    [
      ["offer", 1],
      ["offer", 2],
    ],
  );
  assert.equal(pc.iceRestarts, 1, "the offer made again restarts ICE");
  await negotiation.handle({ type: "answer", sdp: "v=0\r\no=- 9 1 IN IP4 0.0.0.0\r\n", gen: 1 });
  assert.equal(
    pc.signalingState,
    "have-local-offer",
    "the late answer to the old offer is dropped",
  );
  await negotiation.handle({ type: "answer", sdp: "v=0\r\no=- 9 2 IN IP4 0.0.0.0\r\n", gen: 2 });
  assert.equal(pc.signalingState, "stable");
  assert.equal(negotiated(), 1);
  assert.equal(negotiation.remoteSession, "9");
});

test("a settled pair needs nothing after an outage; their old offer is not applied twice", async () => {
  const { pc, sent, negotiation } = lone();
  const offer = { type: "offer", sdp: "v=0\r\no=- 7 1 IN IP4 0.0.0.0\r\nm=audio\r\n", gen: 4 };
  await negotiation.handle(offer);
  assert.deepEqual(
    sent.map((m) => [m.type, m.gen]),
    [["answer", 4]],
  );
  negotiation.resync();
  await negotiation.handle(offer);
  await settle();
  assert.equal(sent.length, 1, "no new offer, no second answer");
  assert.equal(pc.signalingState, "stable");
});
