/**
 * What we send on a pair: one audio and one video transceiver for the whole
 * life of a connection (camera changes and screen share are replaceTrack(),
 * never a renegotiation), our tracks on the transceivers an offer created,
 * and the video encoding limits. No DOM.
 * @module
 */

/** @typedef {{audio: RTCRtpSender|null, video: RTCRtpSender|null}} Senders */
/** @typedef {{audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} LocalTracks */

/**
 * Newcomer: the pair's two transceivers, with our tracks (or none yet).
 * @param {RTCPeerConnection} pc
 * @param {LocalTracks} tracks
 * @param {RTCRtpEncodingParameters} encoding the video encoding to start with
 * @returns {Senders}
 */
export function addTransceivers(pc, { audio, video }, encoding) {
  return {
    audio: pc.addTransceiver(audio || "audio", { direction: "sendrecv" }).sender,
    video: pc.addTransceiver(video || "video", {
      direction: "sendrecv",
      sendEncodings: [encoding],
    }).sender,
  };
}

/**
 * Answerer side: send our tracks on the transceivers the offer created
 * (those not used yet), in both directions.
 * @param {RTCPeerConnection} pc
 * @param {LocalTracks} local
 * @param {Senders} senders filled in for each kind attached
 */
export function attachTracks(pc, local, senders) {
  for (const transceiver of pc.getTransceivers()) {
    const kind = /** @type {"audio"|"video"} */ (transceiver.receiver.track.kind);
    if (transceiver.currentDirection === "stopped" || senders[kind]) continue;
    if (transceiver.sender.track !== local[kind]) {
      transceiver.sender.replaceTrack(local[kind] || null).catch(() => {});
    }
    transceiver.direction = "sendrecv";
    senders[kind] = transceiver.sender;
  }
}

/**
 * Bring every encoding to the wanted limits; a field wanted `undefined` is
 * removed ("no cap").
 * @param {RTCRtpEncodingParameters[]} encodings changed in place
 * @param {RTCRtpEncodingParameters} wanted
 * @returns {boolean} whether anything changed
 */
export function mergeEncoding(encodings, wanted) {
  let changed = false;
  for (const encoding of encodings) {
    const fields = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (encoding));
    for (const [key, value] of Object.entries(wanted)) {
      if (value === undefined) {
        if (key in fields) {
          delete fields[key];
          changed = true;
        }
      } else if (fields[key] !== value) {
        fields[key] = value;
        changed = true;
      }
    }
  }
  return changed;
}

/**
 * Apply video encoding limits (bitrate, resolution scale, frame rate) to a
 * sender, only when they differ from what it has.
 * @param {RTCRtpSender} sender
 * @param {RTCRtpEncodingParameters} wanted
 * @returns {Promise<void>}
 */
export async function applyEncoding(sender, wanted) {
  const params = sender.getParameters();
  if (!params.encodings || params.encodings.length === 0) return;
  if (!mergeEncoding(params.encodings, wanted)) return;
  try {
    await sender.setParameters(params);
  } catch (error) {
    console.warn("meet: could not apply an encoding", error);
  }
}
