import assert from "node:assert/strict";
import { test } from "node:test";
import { levelOf, MicLevel } from "../../static/js/call/mic-level.js";

/** @param {number} amplitude a square wave of this height */
const frame = (amplitude) =>
  Float32Array.from({ length: 512 }, (_, i) => (i % 2 ? amplitude : -amplitude));

test("the meter is still for silence and full for a loud voice", () => {
  assert.equal(levelOf(frame(0)), 0);
  assert.equal(levelOf(frame(1)), 1);
  assert.equal(levelOf(frame(0.9)), 1, "never past full");
});

test("quiet speech still moves the meter, louder moves it further", () => {
  const quiet = levelOf(frame(0.01));
  const normal = levelOf(frame(0.05));
  assert.ok(quiet >= 0.15 && quiet <= 0.25, `quiet speech at ${quiet}`);
  assert.ok(normal > quiet && normal < 1);
});

test("without Web Audio there is nothing to measure: the level is 0", () => {
  const meter = new MicLevel();
  meter.listen(/** @type {any} */ ({ kind: "audio" }));
  assert.equal(meter.read(), 0);
  meter.close();
});
