/**
 * Per-receiver encoding. Each pair has its own RTCPeerConnection, so each
 * receiver gets its own encoder: its bitrate and resolution follow what that
 * receiver shows (the size of our tile on its screen, which it reports over
 * the data channel as a `view` frame) and how well its downlink is doing
 * (the loss it sees from us). Audio comes first: its sender gets high
 * priority, and Opus runs with in-band FEC and DTX. No DOM.
 * @module
 */

/** The data-channel frame a receiver sends when our tile changes size. */
export const VIEW_FRAME = "view";
/** Loss above this (in %) as seen by a receiver: its copy gets fewer bits. */
export const LOSSY_PCT = 5;
/** A lossy receiver's share is cut to this fraction. */
const LOSSY_FACTOR = 0.7;
/** Never scale a camera down more than this, whatever the tile. */
const MAX_SCALE = 4;
/** Tile heights are compared with the source in these steps (a small
 * resize does not reconfigure the encoder). */
const SCALE_STEP = 0.25;
/** The largest tile size a view frame may state (device pixels). */
const MAX_VIEW_PX = 16384;

/**
 * What a receiver told us about our tile on its screen.
 * @typedef {{height: number, lossy: boolean}} View
 */

/**
 * Read a `view` frame from a peer; null when it is not one we accept.
 * @param {any} frame
 * @returns {View|null}
 */
export function parseView(frame) {
  if (!frame || frame.type !== VIEW_FRAME) return null;
  const { h, lossy } = frame;
  if (typeof h !== "number" || !Number.isFinite(h) || h < 0 || h > MAX_VIEW_PX) return null;
  return { height: Math.round(h), lossy: lossy === true };
}

/**
 * The frame a receiver sends for its tile of a sender.
 * @param {number} height the tile's video height in device pixels
 * @param {boolean} lossy whether the pair's inbound loss is above `LOSSY_PCT`
 */
export function viewFrame(height, lossy) {
  return { type: VIEW_FRAME, h: Math.round(height), lossy };
}

/**
 * How much to scale the camera down for a receiver showing it `tileHeight`
 * device pixels high (1 = full resolution); in steps of `SCALE_STEP`.
 * @param {number} sourceHeight the camera's height
 * @param {number} tileHeight
 */
export function scaleFor(sourceHeight, tileHeight) {
  if (!(sourceHeight > 0) || !(tileHeight > 0)) return 1;
  const exact = sourceHeight / tileHeight;
  const stepped = Math.floor(exact / SCALE_STEP) * SCALE_STEP;
  return Math.min(MAX_SCALE, Math.max(1, stepped));
}

/**
 * Every receiver's video encoding for one sender.
 *
 * Without any view the old rule holds: the budget split evenly, each copy
 * capped at `perPeerMaxKbps`, 2/3 resolution from 3 peers on. With views,
 * receiver i's copy is scaled to its tile (`scale_i`), and its bits follow
 * what that resolution needs: weight `w_i = 1 / scale_i`, share
 * `min(perPeerMax × w_i, budget × w_i / Σw)`, cut to 70 % for a lossy
 * receiver. The shares never add up to more than the budget. A shared
 * screen keeps its full resolution and 15 frames/s for every receiver.
 *
 * @param {object} options
 * @param {string[]} options.receivers peer ids we send to
 * @param {Map<string, View>} options.views what each reported (may be missing)
 * @param {number} options.sourceHeight the camera's height (0 when unknown)
 * @param {{videoKbps: number, perPeerMaxKbps: number}} options.budget
 * @param {boolean} [options.screen]
 * @returns {Map<string, RTCRtpEncodingParameters>}
 */
export function planEncodings({ receivers, views, sourceHeight, budget, screen = false }) {
  const count = Math.max(1, receivers.length);
  const fallbackScale = !screen && count >= 3 ? 1.5 : 1;
  const scales = receivers.map((id) => {
    const view = views.get(id);
    if (screen) return 1;
    if (!view || view.height === 0) return fallbackScale;
    return scaleFor(sourceHeight, view.height);
  });
  const weights = scales.map((scale) => 1 / scale);
  const total = weights.reduce((sum, weight) => sum + weight, 0) || 1;
  /** @type {Map<string, RTCRtpEncodingParameters>} */
  const plan = new Map();
  receivers.forEach((id, index) => {
    const weight = weights[index];
    let kbps = Math.min(budget.perPeerMaxKbps * weight, (budget.videoKbps * weight) / total);
    if (views.get(id)?.lossy) kbps *= LOSSY_FACTOR;
    plan.set(id, {
      maxBitrate: Math.round(kbps * 1000),
      scaleResolutionDownBy: scales[index],
      maxFramerate: screen ? 15 : undefined,
    });
  });
  return plan;
}

/**
 * The audio sender's encoding: ahead of video when the uplink is short.
 * @returns {RTCRtpEncodingParameters}
 */
export function audioEncoding() {
  return /** @type {RTCRtpEncodingParameters} */ ({ priority: "high", networkPriority: "high" });
}

/**
 * A remote description with Opus asked to use in-band FEC and DTX: the
 * `fmtp` of a description says what its author wants to receive, and our
 * Opus encoder follows the one it is given. Nothing else changes.
 * @param {string} sdp
 * @returns {string}
 */
export function withOpusOptions(sdp) {
  const opus = [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((match) => match[1]);
  if (opus.length === 0) return sdp;
  return sdp.replace(/^a=fmtp:(\d+) ([^\r\n]*)/gm, (line, type, params) => {
    if (!opus.includes(type)) return line;
    let next = params;
    for (const option of ["useinbandfec=1", "usedtx=1"]) {
      const [key] = option.split("=");
      if (!new RegExp(`(^|;)\\s*${key}=`).test(next)) next = `${next};${option}`;
    }
    return `a=fmtp:${type} ${next}`;
  });
}

/**
 * The receiving side: tells each peer how high its video is on our screen
 * (`view` frames on the pair's channel) and whether its copy reaches us
 * lossy. Sent again only when that changes, or when the pair is rebuilt (a
 * new connection has a new channel, and the sender a new encoder).
 */
export class ViewReporter {
  /**
   * @param {object} options
   * @param {{roster: Map<string, {link: any, pair: {pc: RTCPeerConnection|null,
   *   sendData(data: string): boolean}}>}} options.session
   */
  constructor({ session }) {
    this.session = session;
    /** Our tile height of each peer (device pixels). @type {Map<string, number>} */
    this.heights = new Map();
    /** What the current connection of a pair was last told. @type {WeakMap<object, string>} */
    this.told = new WeakMap();
  }

  /**
   * A peer's tile changed size on our screen.
   * @param {string} id
   * @param {number} height device pixels
   */
  report(id, height) {
    this.heights.set(id, height);
    this.send(id);
  }

  /**
   * Tell the peer, if what we would say changed (also called when its link
   * health is measured again, so a lossy downlink is reported).
   * @param {string} id
   */
  send(id) {
    const participant = this.session.roster.get(id);
    const height = this.heights.get(id);
    if (!participant || height === undefined || !participant.pair.pc) {
      if (!participant) this.heights.delete(id);
      return;
    }
    const loss = participant.link?.figures?.lossPct;
    const frame = viewFrame(height, typeof loss === "number" && loss > LOSSY_PCT);
    const said = `${frame.h}:${frame.lossy}`;
    const pc = participant.pair.pc;
    if (this.told.get(pc) === said) return;
    if (participant.pair.sendData(JSON.stringify(frame))) this.told.set(pc, said);
  }
}
