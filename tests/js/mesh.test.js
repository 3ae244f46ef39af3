// The mesh's budget and ICE configuration, over fake peer connections.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeTrack, installFakes, settle } from "./fakes.js";

installFakes();
const { Mesh, rtcConfiguration, videoEncodingFor } = await import("../../static/js/call/mesh.js");

const budget = { videoKbps: 2500, perPeerMaxKbps: 1500 };

test("the budget is split across peers, capped per peer, and 480p from 3 peers on", () => {
  assert.deepEqual(videoEncodingFor(1, budget), {
    maxBitrate: 1_500_000,
    scaleResolutionDownBy: 1,
    maxFramerate: undefined,
  });
  assert.equal(videoEncodingFor(2, budget).maxBitrate, 1_250_000);
  assert.deepEqual(videoEncodingFor(3, budget), {
    maxBitrate: 833_333,
    scaleResolutionDownBy: 1.5,
    maxFramerate: undefined,
  });
  // A shared screen keeps its resolution and gives up frame rate.
  assert.deepEqual(videoEncodingFor(3, budget, true), {
    maxBitrate: 833_333,
    scaleResolutionDownBy: 1,
    maxFramerate: 15,
  });
  assert.equal(videoEncodingFor(0, budget).maxBitrate, 1_500_000);
});

test("relay-only comes from the server's ice policy", () => {
  assert.equal(rtcConfiguration({ servers: [], policy: "relay" }).iceTransportPolicy, "relay");
  assert.equal(rtcConfiguration(null).iceTransportPolicy, "all");
  assert.deepEqual(rtcConfiguration(null).iceServers, []);
});

test("every pair's sender follows the number of pairs; frames go to the pair's peer", async () => {
  /** @type {any[]} */
  const sent = [];
  /** @type {Map<string, any>} */
  const pairs = new Map();
  const mesh = new Mesh({
    send: (message) => sent.push(message) > 0,
    tracks: () =>
      /** @type {any} */ ({ audio: new FakeTrack("audio"), video: new FakeTrack("video") }),
    budget,
    pairs: () => pairs.values(),
  });
  for (const id of ["b", "c", "d"]) {
    pairs.set(id, mesh.connect({ peer: id, offer: true, polite: false }));
    mesh.applyBudget();
  }
  await settle();
  for (const peer of pairs.values()) {
    const [encoding] = peer.senders.video.getParameters().encodings;
    assert.equal(encoding.maxBitrate, 833_333);
    assert.equal(encoding.scaleResolutionDownBy, 1.5);
  }
  assert.deepEqual(
    sent.filter((m) => m.type === "offer").map((m) => m.to),
    ["b", "c", "d"],
  );
  pairs.get("d").close();
  pairs.delete("d");
  mesh.applyBudget();
  await settle();
  assert.equal(pairs.get("b").senders.video.getParameters().encodings[0].maxBitrate, 1_250_000);
  assert.equal(mesh.broadcast("x"), 0, "no channel is open");
  for (const peer of pairs.values()) peer.close();
  mesh.close();
});
