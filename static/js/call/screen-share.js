/**
 * Opening a screen or window to share instead of the camera. No DOM.
 * @module
 */

import { problemOf } from "./devices.js";

/** @typedef {import("./devices.js").MediaProblem} MediaProblem */

/** Whether screen sharing is possible in this browser. */
export function canShareScreen() {
  return !!navigator.mediaDevices?.getDisplayMedia;
}

/**
 * Ask the person for a screen or window (the browser's own picker). Text and
 * lines matter more than motion on a shared screen: 15 frames a second, and
 * the encoder told to keep detail.
 * @returns {Promise<{track: MediaStreamTrack, problem: null}|{track: null, problem: MediaProblem}>}
 *   the track, or why not ("denied" when the person cancelled the picker)
 */
export async function openScreen() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: { ideal: 15 } },
      audio: false,
    });
  } catch (error) {
    return { track: null, problem: problemOf(error) };
  }
  const track = stream.getVideoTracks()[0];
  if ("contentHint" in track) track.contentHint = "detail";
  return { track, problem: null };
}
