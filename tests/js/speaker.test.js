import assert from "node:assert/strict";
import { test } from "node:test";
import { HOLD_MS, SPEAKING_LEVEL, SpeakerDetector } from "../../static/js/call/speaker.js";

const LOUD = SPEAKING_LEVEL * 10;
const QUIET = SPEAKING_LEVEL / 10;

/** @param {Record<string, number|null>} levels */
const round = (levels) => new Map(Object.entries(levels));

test("the loudest person above the level is the speaker; nobody when all are quiet", () => {
  const detector = new SpeakerDetector();
  assert.equal(detector.update(round({ a: QUIET, b: QUIET }), 0), null);
  assert.equal(detector.update(round({ a: LOUD, b: LOUD * 2 }), 100), "b");
});

test("the speaker is held while heard and for the hold time after, so it does not flicker", () => {
  const detector = new SpeakerDetector();
  assert.equal(detector.update(round({ a: LOUD, b: QUIET }), 0), "a");
  // b is louder, but a is still talking: a keeps it.
  assert.equal(detector.update(round({ a: LOUD, b: LOUD * 3 }), 500), "a");
  // a paused a moment: still a, within the hold.
  assert.equal(detector.update(round({ a: QUIET, b: LOUD }), 500 + HOLD_MS - 1), "a");
  // a silent for the hold time: b takes over.
  assert.equal(detector.update(round({ a: QUIET, b: LOUD }), 500 + HOLD_MS), "b");
  // Everyone silent past the hold: nobody.
  assert.equal(detector.update(round({ a: QUIET, b: QUIET }), 500 + 2 * HOLD_MS), null);
});

test("unknown levels (muted) never speak, and someone who left loses the highlight", () => {
  const detector = new SpeakerDetector();
  assert.equal(detector.update(round({ a: null, b: LOUD }), 0), "b");
  assert.equal(detector.update(round({ a: LOUD }), 10), "a");
});
