// What we send on a pair (senders.js): our tracks on the offer's
// transceivers, and encoding limits changed only when they differ.
import assert from "node:assert/strict";
import { test } from "node:test";
import { attachTracks, mergeEncoding } from "../../static/js/call/senders.js";

test("encodings take the wanted limits; a limit wanted undefined is removed", () => {
  /** @type {any[]} */
  const encodings = [{ maxBitrate: 1_000_000, maxFramerate: 15, active: true }];
  const wanted = /** @type {any} */ ({
    maxBitrate: 800_000,
    scaleResolutionDownBy: 1.5,
    maxFramerate: undefined,
  });
  assert.equal(mergeEncoding(encodings, wanted), true);
  assert.deepEqual(encodings, [{ maxBitrate: 800_000, scaleResolutionDownBy: 1.5, active: true }]);
  assert.equal(mergeEncoding(encodings, wanted), false, "nothing to change the second time");
});

/** @param {"audio"|"video"} kind @param {any} [track] @param {string|null} [currentDirection] */
function transceiver(kind, track = null, currentDirection = null) {
  const sender = {
    track,
    /** @param {any} next */
    replaceTrack: async (next) => {
      sender.track = next;
      sender.replaced += 1;
    },
    replaced: 0,
  };
  return { receiver: { track: { kind } }, sender, direction: "recvonly", currentDirection };
}

test("our tracks go on the offer's unused transceivers, sending both ways", async () => {
  const audio = transceiver("audio");
  const video = transceiver("video");
  const stopped = transceiver("video", null, "stopped");
  const pc = /** @type {any} */ ({ getTransceivers: () => [stopped, audio, video] });
  const local = /** @type {any} */ ({ audio: { kind: "audio" }, video: null });
  /** @type {any} */
  const senders = { audio: null, video: null };
  attachTracks(pc, local, senders);
  await Promise.resolve();
  assert.equal(senders.audio, audio.sender);
  assert.equal(senders.video, video.sender, "a stopped transceiver is skipped");
  assert.equal(audio.sender.track, local.audio);
  assert.equal(video.sender.replaced, 0, "no track to send and none sent: left alone");
  assert.deepEqual(
    [audio.direction, video.direction, stopped.direction],
    ["sendrecv", "sendrecv", "recvonly"],
  );
  // Attached once: a later offer does not take the senders over again.
  const again = transceiver("audio");
  pc.getTransceivers = () => [again];
  attachTracks(pc, local, senders);
  assert.equal(senders.audio, audio.sender);
});
