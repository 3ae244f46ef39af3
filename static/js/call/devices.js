/**
 * Asking the browser for a camera and a microphone: the constraints, opening
 * both with a fallback to whichever works, replacing a device without losing
 * the one in use, what an error means for the person, and the device lists.
 * Every browser call goes through a function passed in, so this runs (and is
 * tested) without a browser. No DOM.
 * @module
 */

/**
 * Why local media could not (fully) start, for the pre-join explanation.
 * @typedef {null|"unsupported"|"denied"|"no-devices"|"no-camera"|"no-microphone"|"busy"|"failed"} MediaProblem
 */

/** @typedef {(constraints: MediaStreamConstraints) => Promise<MediaStream>} GetUserMedia */

/**
 * @typedef {{audioinput: MediaDeviceInfo[], videoinput: MediaDeviceInfo[],
 *   audiooutput: MediaDeviceInfo[]}} DeviceLists
 */

/**
 * Map a getUserMedia error to a problem name.
 * @param {unknown} error
 * @returns {MediaProblem}
 */
export function problemOf(error) {
  switch (error instanceof Error || error instanceof DOMException ? error.name : "") {
    case "NotAllowedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "no-devices";
    case "NotReadableError":
    case "AbortError":
      return "busy";
    default:
      return "failed";
  }
}

/**
 * What we ask of a microphone: the voice processing a call needs, and the
 * device (preferred, or `exact` when the person picked it).
 * @param {string} deviceId "" for the browser's choice
 * @returns {MediaTrackConstraints}
 */
export function audioConstraints(deviceId, exact = false) {
  /** @type {MediaTrackConstraints} */
  const constraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (deviceId) constraints.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
  return constraints;
}

/**
 * What we ask of a camera: the page's ideal size and rate, and the device.
 * @param {MediaTrackConstraints} ideal the configured camera constraints
 * @param {string} deviceId "" for the browser's choice
 * @returns {MediaTrackConstraints}
 */
export function videoConstraints(ideal, deviceId, exact = false) {
  /** @type {MediaTrackConstraints} */
  const constraints = { ...ideal };
  if (deviceId) constraints.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
  return constraints;
}

/**
 * Open the camera and microphone with one request; when that fails (other
 * than by a refusal), each on its own, so a missing or busy camera still
 * gives audio and the other way round.
 * @param {GetUserMedia} getUserMedia
 * @param {{audio: MediaTrackConstraints, video: MediaTrackConstraints}} requests
 * @returns {Promise<{streams: MediaStream[], problem: MediaProblem}>} what
 *   opened (audio first), and null or why something did not
 */
export async function openCameraAndMicrophone(getUserMedia, { audio, video }) {
  try {
    return { streams: [await getUserMedia({ audio, video })], problem: null };
  } catch (error) {
    const problem = problemOf(error);
    if (problem === "denied") return { streams: [], problem };
    const [mic, camera] = await Promise.allSettled([
      getUserMedia({ audio }),
      getUserMedia({ video }),
    ]);
    const streams = [mic, camera].flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    if (mic.status === "fulfilled" && camera.status === "fulfilled") {
      return { streams, problem: null };
    }
    if (mic.status === "fulfilled") {
      const busy = problemOf(/** @type {PromiseRejectedResult} */ (camera).reason) === "busy";
      return { streams, problem: busy ? "busy" : "no-camera" };
    }
    const micProblem = problemOf(/** @type {PromiseRejectedResult} */ (mic).reason);
    if (camera.status === "fulfilled") {
      return { streams, problem: micProblem === "busy" ? "busy" : "no-microphone" };
    }
    return { streams, problem: micProblem === "denied" ? "denied" : problem };
  }
}

/**
 * Replace the camera or microphone in use with another device. The new one
 * is opened while the old one still runs, so a failure leaves everything as
 * it was, and `install` hands peers the new track (replaceTrack) before the
 * old one stops. Phones often cannot open a second camera at once ("busy"):
 * then the old device is released first, and opened again if the new one
 * still fails (`install(null)` when even that fails).
 * @param {{current: MediaStreamTrack|null, deviceId: string,
 *   open: (deviceId: string) => Promise<MediaStreamTrack>,
 *   install: (track: MediaStreamTrack|null) => void}} change
 * @returns {Promise<MediaProblem>}
 */
export async function switchDevice({ current, deviceId, open, install }) {
  if (current && current.readyState === "live" && current.getSettings().deviceId === deviceId) {
    return null;
  }
  let problem;
  try {
    install(await open(deviceId));
    return null;
  } catch (error) {
    problem = problemOf(error);
    if (problem !== "busy" || !current) return problem;
  }
  const previous = current.getSettings().deviceId;
  current.stop();
  try {
    install(await open(deviceId));
    return null;
  } catch (error) {
    problem = problemOf(error);
  }
  try {
    install(await open(previous || ""));
  } catch {
    install(null);
  }
  return problem;
}

/**
 * Cameras, microphones and speakers (labels appear once permission was
 * given); entries without an id (no permission yet) are left out.
 * @param {MediaDevices|undefined} mediaDevices
 * @returns {Promise<DeviceLists>}
 */
export async function listDevices(mediaDevices) {
  /** @type {DeviceLists} */
  const lists = { audioinput: [], videoinput: [], audiooutput: [] };
  if (!mediaDevices?.enumerateDevices) return lists;
  for (const device of await mediaDevices.enumerateDevices()) {
    if (device.kind in lists && device.deviceId) lists[device.kind].push(device);
  }
  return lists;
}
