import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DirectionWatch,
  parseReceiving,
  REPAIR_WAIT_MS,
  SILENT_AFTER_MS,
  Silences,
} from "../../static/js/call/silence.js";

const ON = { muted: false, camera: true, screen: false };

test("a direction is silent once its bytes stop growing while it should flow", () => {
  const watch = new DirectionWatch();
  let t = 0;
  /** @param {number} audio @param {number} video @param {object} [state] */
  const at = (audio, video, state = ON) =>
    watch.update({ audioBytesIn: audio, framesDecoded: video }, /** @type {any} */ (state), t);
  assert.deepEqual(at(100, 100), []);
  t += 1000;
  assert.deepEqual(at(200, 150), []); // video stalls from here
  t += SILENT_AFTER_MS - 1000;
  assert.deepEqual(at(300, 150), []);
  t += 1000;
  assert.deepEqual(at(400, 150), ["video"]);
  // The camera goes off: nothing is expected, nothing is silent.
  t += 1000;
  assert.deepEqual(at(500, 150, { ...ON, camera: false }), []);
  // Back on: the clock starts again.
  t += 1000;
  assert.deepEqual(at(600, 150), []);
  // Muted audio is never silent.
  t += SILENT_AFTER_MS;
  assert.deepEqual(at(600, 150, { ...ON, muted: true }), ["video"]);
});

test("the ladder: ICE restart, then a rebuild, and the sender is told once per change", () => {
  const silences = new Silences();
  /** @type {string[]} */
  const did = [];
  /** @type {string[]} */
  const sent = [];
  const pc = /** @type {any} */ ({ restartIce: () => did.push("ice-restart") });
  const pair = {
    pc,
    restart: () => did.push("rebuild"),
    sendData: (/** @type {string} */ d) => !!sent.push(d),
  };
  let t = 0;
  let video = 100;
  const sample = () =>
    silences.sample("bbb", pair, { audioBytesIn: t, framesDecoded: video }, ON, t);
  for (; t <= SILENT_AFTER_MS; t += 500) sample();
  assert.deepEqual(did, ["ice-restart"]);
  assert.equal(sample().repair, "ice-restart");
  t += REPAIR_WAIT_MS;
  assert.equal(sample().repair, "rebuild");
  assert.deepEqual(did, ["ice-restart", "rebuild"]);
  assert.deepEqual(
    sent.map((d) => JSON.parse(d).missing),
    [["video"]],
  );
  video = 200; // flowing again
  t += 500;
  assert.deepEqual(sample(), { silent: [], repair: null });
  assert.deepEqual(
    sent.map((d) => JSON.parse(d).missing),
    [["video"], []],
  );
});

test("receiving frames: only the known kinds", () => {
  assert.deepEqual(parseReceiving({ type: "receiving", missing: ["video", "smell"] }), ["video"]);
  assert.deepEqual(parseReceiving({ type: "receiving", missing: [] }), []);
  assert.equal(parseReceiving({ type: "receiving", missing: "video" }), null);
  assert.equal(parseReceiving({ type: "chat" }), null);
});
