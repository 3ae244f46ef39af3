// Opening, replacing and listing cameras and microphones (devices.js), with
// a fake getUserMedia that opens, refuses or reports a busy device.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  audioConstraints,
  listDevices,
  openCameraAndMicrophone,
  problemOf,
  switchDevice,
  videoConstraints,
} from "../../static/js/call/devices.js";
import { FakeDeviceTrack, FakeMediaDevices } from "./media-fakes.js";

/** @param {FakeMediaDevices} devices */
const gum = (devices) => (/** @type {MediaStreamConstraints} */ c) =>
  /** @type {Promise<any>} */ (devices.getUserMedia(c));

const REQUESTS = { audio: audioConstraints(""), video: videoConstraints({}, "") };

test("each getUserMedia error means one thing for the person", () => {
  /** @param {string} name */
  const of = (name) => problemOf(new DOMException("x", name));
  assert.equal(of("NotAllowedError"), "denied");
  assert.equal(of("SecurityError"), "denied");
  assert.equal(of("NotFoundError"), "no-devices");
  assert.equal(of("OverconstrainedError"), "no-devices");
  assert.equal(of("NotReadableError"), "busy");
  assert.equal(of("AbortError"), "busy");
  assert.equal(of("TypeError"), "failed");
  assert.equal(problemOf("not an error"), "failed");
});

test("a picked device is asked for exactly, a remembered one only preferred", () => {
  const mic = audioConstraints("");
  assert.deepEqual(mic, { echoCancellation: true, noiseSuppression: true, autoGainControl: true });
  assert.deepEqual(audioConstraints("mic-1").deviceId, { ideal: "mic-1" });
  assert.deepEqual(audioConstraints("mic-1", true).deviceId, { exact: "mic-1" });
  const ideal = { width: { ideal: 1280 } };
  const camera = videoConstraints(ideal, "cam-1", true);
  assert.deepEqual(camera, { width: { ideal: 1280 }, deviceId: { exact: "cam-1" } });
  assert.equal("deviceId" in ideal, false, "the configured constraints are not changed");
  assert.equal("deviceId" in videoConstraints(ideal, ""), false);
});

test("camera and microphone open with one request when both work", async () => {
  const devices = new FakeMediaDevices();
  const { streams, problem } = await openCameraAndMicrophone(gum(devices), REQUESTS);
  assert.equal(problem, null);
  assert.equal(devices.requests.length, 1);
  assert.deepEqual(
    streams.flatMap((s) => s.getTracks().map((t) => t.kind)),
    ["audio", "video"],
  );
});

test("whatever can open is kept, and the problem names what is missing", async () => {
  /**
   * @param {FakeMediaDevices} devices
   * @returns {Promise<[string[], import("../../static/js/call/devices.js").MediaProblem]>}
   */
  const open = async (devices) => {
    const { streams, problem } = await openCameraAndMicrophone(gum(devices), REQUESTS);
    return [streams.flatMap((s) => s.getTracks().map((t) => t.kind)), problem];
  };
  assert.deepEqual(await open(new FakeMediaDevices({ video: [] })), [["audio"], "no-camera"]);
  const busyCamera = new FakeMediaDevices();
  busyCamera.refusals.set("cam-0", "NotReadableError");
  assert.deepEqual(await open(busyCamera), [["audio"], "busy"]);
  assert.deepEqual(await open(new FakeMediaDevices({ audio: [] })), [["video"], "no-microphone"]);
  const busyMic = new FakeMediaDevices();
  busyMic.refusals.set("mic-0", "NotReadableError");
  assert.deepEqual(await open(busyMic), [["video"], "busy"]);
  assert.deepEqual(await open(new FakeMediaDevices({ audio: [], video: [] })), [[], "no-devices"]);
  const micDenied = new FakeMediaDevices({ video: [] });
  micDenied.refusals.set("audio", "NotAllowedError");
  assert.deepEqual(await open(micDenied), [[], "denied"]);
});

test("a refusal is final: nothing more is asked", async () => {
  const devices = new FakeMediaDevices();
  devices.refusals.set("*", "NotAllowedError");
  const { streams, problem } = await openCameraAndMicrophone(gum(devices), REQUESTS);
  assert.deepEqual([streams, problem], [[], "denied"]);
  assert.equal(devices.requests.length, 1);
});

/**
 * A device switch as media.js does it, recording what was installed.
 * @param {FakeMediaDevices} devices
 * @param {FakeDeviceTrack|null} current
 * @param {string} deviceId
 */
async function switchTo(devices, current, deviceId) {
  /** @type {(FakeDeviceTrack|null)[]} */
  const installed = [];
  /** @type {boolean[]} whether the old track was still live at each install */
  const oldLive = [];
  const problem = await switchDevice({
    current: /** @type {any} */ (current),
    deviceId,
    open: async (id) =>
      (await gum(devices)({ video: videoConstraints({}, id, true) })).getTracks()[0],
    install: (track) => {
      installed.push(/** @type {any} */ (track));
      oldLive.push(current?.readyState === "live");
    },
  });
  return { problem, installed: installed.map((t) => t?.deviceId ?? null), oldLive };
}

test("switching to the device in use does nothing", async () => {
  const devices = new FakeMediaDevices();
  const current = new FakeDeviceTrack("video", "cam-0");
  assert.deepEqual(await switchTo(devices, current, "cam-0"), {
    problem: null,
    installed: [],
    oldLive: [],
  });
  assert.equal(devices.requests.length, 0);
});

test("the new device is in place before the old one stops", async () => {
  const devices = new FakeMediaDevices();
  const current = new FakeDeviceTrack("video", "cam-0");
  const result = await switchTo(devices, current, "cam-1");
  assert.deepEqual(result, { problem: null, installed: ["cam-1"], oldLive: [true] });
});

test("a device that cannot start leaves the one in use untouched", async () => {
  const devices = new FakeMediaDevices();
  const current = new FakeDeviceTrack("video", "cam-0");
  const result = await switchTo(devices, current, "gone");
  assert.deepEqual(result, { problem: "no-devices", installed: [], oldLive: [] });
  assert.equal(current.readyState, "live");
});

test("a busy device is tried again after the old one is released", async () => {
  const devices = new FakeMediaDevices();
  const current = new FakeDeviceTrack("video", "cam-0");
  let first = true;
  devices.delay = async () => {
    // Busy while the old camera runs, as on a phone with one camera at a time.
    if (first && current.readyState === "live") {
      first = false;
      throw new DOMException("busy", "NotReadableError");
    }
  };
  const result = await switchTo(devices, current, "cam-1");
  assert.deepEqual(result, { problem: null, installed: ["cam-1"], oldLive: [false] });
});

test("when the busy device still fails, the old one is opened again", async () => {
  const devices = new FakeMediaDevices();
  devices.refusals.set("cam-1", "NotReadableError");
  const current = new FakeDeviceTrack("video", "cam-0");
  const result = await switchTo(devices, current, "cam-1");
  assert.deepEqual(result, { problem: "busy", installed: ["cam-0"], oldLive: [false] });
  assert.equal(current.readyState, "ended");
  assert.equal(devices.live("cam-0").length, 1, "a fresh track of the old camera");
});

test("when even the old device cannot open again, there is none", async () => {
  const devices = new FakeMediaDevices();
  devices.refusals.set("cam-1", "NotReadableError");
  devices.refusals.set("cam-0", "NotReadableError");
  const current = new FakeDeviceTrack("video", "cam-0");
  const result = await switchTo(devices, current, "cam-1");
  assert.deepEqual(result, { problem: "busy", installed: [null], oldLive: [false] });
});

test("device lists hold cameras, microphones and speakers that have an id", async () => {
  const devices = new FakeMediaDevices({ audio: ["mic-0", ""], video: ["cam-0"] });
  const lists = await listDevices(/** @type {any} */ (devices));
  assert.deepEqual(
    Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v.map((d) => d.deviceId)])),
    { audioinput: ["mic-0"], videoinput: ["cam-0"], audiooutput: ["speaker-0"] },
  );
  assert.deepEqual(await listDevices(undefined), {
    audioinput: [],
    videoinput: [],
    audiooutput: [],
  });
});
