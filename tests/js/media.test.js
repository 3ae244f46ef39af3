// The local camera and microphone (media.js) against fake devices: what is
// sent, camera off, switching, a device unplugged, screen sharing, leaving.
import assert from "node:assert/strict";
import { test } from "node:test";
import { settle } from "./fakes.js";
import { FakeMediaDevices, installMediaDevices } from "./media-fakes.js";

const { LocalMedia } = await import("../../static/js/call/media.js");

/**
 * Started local media over fresh fake devices, recording its events.
 * @param {FakeMediaDevices} [devices]
 */
async function started(devices = new FakeMediaDevices()) {
  installMediaDevices(devices);
  const media = new LocalMedia({ video: { width: { ideal: 1280 } } });
  /** @type {{type: string, detail: any}[]} */
  const events = [];
  for (const type of ["track", "screen", "lost"]) {
    media.addEventListener(type, (event) => {
      events.push({ type, detail: /** @type {CustomEvent} */ (event).detail });
    });
  }
  const problem = await media.start({ audioId: "", videoId: "" });
  return { media, devices, events, problem };
}

/** @param {InstanceType<typeof LocalMedia>} media */
const sendingIds = (media) => {
  const { audio, video } = media.sending();
  return { audio: audio?.getSettings().deviceId, video: video?.getSettings().deviceId };
};

test("the camera and microphone open once, for the preview and for the call", async () => {
  const { media, devices, problem } = await started();
  assert.equal(problem, null);
  assert.equal(devices.requests.length, 1);
  assert.deepEqual(sendingIds(media), { audio: "mic-0", video: "cam-0" });
  assert.deepEqual(
    media.preview.getTracks().map((t) => t.kind),
    ["audio", "video"],
  );
  assert.equal(media.cameraOn, true);
  assert.deepEqual([media.audioId, media.videoId], ["mic-0", "cam-0"]);
});

test("without a camera the microphone still works", async () => {
  const { media, problem } = await started(new FakeMediaDevices({ video: [] }));
  assert.equal(problem, "no-camera");
  assert.deepEqual(sendingIds(media), { audio: "mic-0", video: undefined });
  assert.equal(media.cameraOn, false);
});

test("muting keeps the microphone open and silent, also across a switch", async () => {
  const { media } = await started();
  media.setMuted(true);
  const before = media.audio;
  assert.equal(before?.enabled, false);
  assert.equal(before?.readyState, "live");
  assert.equal(await media.useMicrophone("mic-1"), null);
  assert.equal(media.audio?.getSettings().deviceId, "mic-1");
  assert.equal(media.audio?.enabled, false, "still muted");
  assert.equal(before?.readyState, "ended", "the old microphone is released");
  assert.equal(media.level(), 0);
});

test("camera off stops the camera; on again opens the one chosen", async () => {
  const { media, devices, events } = await started();
  const camera = media.camera;
  assert.equal(await media.setCameraOn(false), null);
  assert.equal(camera?.readyState, "ended", "its light goes out");
  assert.equal(media.sending().video, null);
  assert.deepEqual(events.at(-1), { type: "track", detail: { kind: "video", track: null } });
  // Picked while off: only remembered.
  assert.equal(await media.useCamera("cam-1"), null);
  assert.equal(devices.live("cam-1").length, 0);
  assert.equal(await media.setCameraOn(true), null);
  assert.deepEqual(sendingIds(media), { audio: "mic-0", video: "cam-1" });
});

test("camera off pressed during a camera switch turns off the new camera", async () => {
  const { media, devices } = await started();
  const switching = media.useCamera("cam-1");
  const off = media.setCameraOn(false);
  assert.deepEqual(await Promise.all([switching, off]), [null, null]);
  assert.equal(media.camera, null);
  assert.deepEqual(
    devices.opened.filter((t) => t.readyState === "live").map((t) => t.kind),
    ["audio"],
  );
});

test("a camera that cannot start leaves the one in use", async () => {
  const { media, devices } = await started();
  const camera = media.camera;
  devices.refusals.set("cam-1", "NotFoundError");
  assert.equal(await media.useCamera("cam-1"), "no-devices");
  assert.equal(media.camera, camera);
  assert.equal(camera?.readyState, "live");
});

test("an unplugged microphone gives way to the default one, an unplugged camera to none", async () => {
  const { media, devices, events } = await started();
  assert.equal(await media.useMicrophone("mic-1"), null);
  /** @type {any} */ (media.audio).unplug();
  await settle();
  assert.equal(media.audio?.getSettings().deviceId, "mic-0");
  const lost = events.filter((e) => e.type === "lost");
  assert.deepEqual(lost, [{ type: "lost", detail: { kind: "audio", track: media.audio } }]);
  /** @type {any} */ (media.camera).unplug();
  assert.equal(media.camera, null);
  assert.deepEqual(events.at(-1), { type: "lost", detail: { kind: "video", track: null } });
  assert.equal(devices.live("cam-0").length, 0);
});

test("a shared screen is sent instead of the camera, and the camera again after", async () => {
  const { media, events } = await started();
  assert.equal(await media.startScreen(), null);
  assert.equal(media.sending().video, media.screen);
  assert.equal(media.screen?.contentHint, "detail");
  assert.deepEqual(events.at(-1), { type: "screen", detail: { on: true } });
  // Another camera while sharing: the screen stays what peers get.
  const count = events.length;
  assert.equal(await media.useCamera("cam-1"), null);
  assert.equal(events.length, count, "no video track change reported");
  assert.equal(media.sending().video, media.screen);
  // Stopped from the browser's own bar.
  const screen = /** @type {any} */ (media.screen);
  screen.unplug();
  assert.equal(media.screen, null);
  assert.deepEqual(sendingIds(media), { audio: "mic-0", video: "cam-1" });
  assert.deepEqual(events.slice(-2), [
    { type: "track", detail: { kind: "video", track: media.camera } },
    { type: "screen", detail: { on: false } },
  ]);
});

test("a cancelled screen picker changes nothing", async () => {
  const { media, devices } = await started();
  devices.refusals.set("screen", "NotAllowedError");
  assert.equal(await media.startScreen(), "denied");
  assert.equal(media.screen, null);
  assert.deepEqual(sendingIds(media), { audio: "mic-0", video: "cam-0" });
});

test("leaving releases every device, and one still opening is not kept", async () => {
  const { media, devices } = await started();
  await media.setCameraOn(false);
  /** @type {() => void} */
  let answer = () => {};
  devices.delay = () => new Promise((resolve) => (answer = () => resolve(undefined)));
  const opening = media.setCameraOn(true);
  await settle();
  media.stop();
  answer();
  await opening;
  assert.equal(media.camera, null);
  assert.deepEqual(
    devices.opened.filter((t) => t.readyState === "live"),
    [],
  );
});
