/**
 * Link health of one pair: successive `getStats()` reports of its
 * RTCPeerConnection turned into the figures a person can read (path, round
 * trip, loss, jitter, bitrates, frame rate, what limits our encoder) and a
 * grade. No DOM, no timers: links.js samples, ui/link-view.js shows.
 * @module
 */

/**
 * Where a grade changes. A pair is `good` when every figure is on the good
 * side, `bad` when any one is on the bad side, `weak` otherwise. Frame rate
 * only counts while the other person sends video (camera or screen on).
 */
export const THRESHOLDS = Object.freeze({
  /** Round trip (ms): good below, bad at or above. */
  rttGoodMs: 120,
  rttBadMs: 400,
  /** Packets lost of those expected over the last interval (%). */
  lossGoodPct: 3,
  lossBadPct: 10,
  /** Frames per second decoded: good above, bad at or below. */
  fpsGood: 5,
  fpsBad: 1,
});

/**
 * @typedef {"good"|"weak"|"bad"} Grade
 * @typedef {"host"|"srflx"|"prflx"|"relay"} PathKind
 */

/**
 * What one report says, reduced to counters (cumulative values).
 * @typedef {object} Snapshot
 * @property {number} timestamp ms
 * @property {{kind: PathKind, local: string, remote: string, transport: "udp"|"tcp"}|null} path
 * @property {number|null} rttMs the selected pair's current round trip
 * @property {number} bytesIn media bytes received (every inbound RTP stream)
 * @property {number} audioBytesIn of which audio (silence.js; video counts frames)
 * @property {number} bytesOut media bytes sent (every outbound RTP stream)
 * @property {number} packetsReceived
 * @property {number} packetsLost
 * @property {number|null} jitterMs the largest inbound jitter
 * @property {number} framesDecoded inbound video
 * @property {number|null} fps inbound video as the browser reports it
 * @property {string|null} limitation our video encoder's `qualityLimitationReason`
 * @property {number} audioEnergy inbound audio `totalAudioEnergy`
 * @property {number} audioDuration inbound audio `totalSamplesDuration` (s)
 * @property {number} sentEnergy our microphone's `totalAudioEnergy` (media-source)
 * @property {number} sentDuration our microphone's `totalSamplesDuration` (s)
 */

/**
 * The figures of one pair over the last interval.
 * @typedef {object} LinkFigures
 * @property {PathKind|null} path
 * @property {"udp"|"tcp"|null} transport
 * @property {number|null} rttMs
 * @property {number|null} lossPct
 * @property {number|null} jitterMs
 * @property {number|null} inKbps
 * @property {number|null} outKbps
 * @property {number|null} fps
 * @property {string|null} limitation
 * @property {number|null} audioLevel root mean square of what we heard (0–1)
 * @property {number|null} sentLevel the same of what our microphone picked up
 */

/** The order a path's kind is reported in: the "furthest" end wins. */
const PATH_ORDER = ["host", "prflx", "srflx", "relay"];

/**
 * @param {Iterable<any>|{values(): Iterable<any>}} report an RTCStatsReport, or its values
 * @returns {any[]}
 */
function entries(report) {
  const values = /** @type {any} */ (report).values;
  return [...(typeof values === "function" ? values.call(report) : report)];
}

/**
 * The candidate pair in use: the transport's selected pair, else a nominated
 * succeeded one (browsers that do not name it on the transport).
 * @param {any[]} stats
 * @param {Map<string, any>} byId
 */
function selectedPair(stats, byId) {
  for (const s of stats) {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const pair = byId.get(s.selectedCandidatePairId);
      if (pair) return pair;
    }
  }
  return stats.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
}

/**
 * Reduce one `getStats()` report to a snapshot.
 * @param {Iterable<any>|{values(): Iterable<any>}} report
 * @returns {Snapshot}
 */
export function readStats(report) {
  const stats = entries(report);
  const byId = new Map(stats.map((s) => [s.id, s]));
  /** @type {Snapshot} */
  const snap = {
    timestamp: 0,
    path: null,
    rttMs: null,
    bytesIn: 0,
    audioBytesIn: 0,
    bytesOut: 0,
    packetsReceived: 0,
    packetsLost: 0,
    jitterMs: null,
    framesDecoded: 0,
    fps: null,
    limitation: null,
    audioEnergy: 0,
    audioDuration: 0,
    sentEnergy: 0,
    sentDuration: 0,
  };
  for (const s of stats) {
    snap.timestamp = Math.max(snap.timestamp, s.timestamp || 0);
    if (s.type === "inbound-rtp") {
      snap.bytesIn += s.bytesReceived || 0;
      snap.packetsReceived += s.packetsReceived || 0;
      snap.packetsLost += Math.max(0, s.packetsLost || 0);
      if (typeof s.jitter === "number") {
        snap.jitterMs = Math.max(snap.jitterMs ?? 0, s.jitter * 1000);
      }
      if (s.kind === "audio") snap.audioBytesIn += s.bytesReceived || 0;
      if (s.kind === "video") {
        snap.framesDecoded += s.framesDecoded || 0;
        if (typeof s.framesPerSecond === "number") snap.fps = s.framesPerSecond;
      } else if (s.kind === "audio") {
        snap.audioEnergy += s.totalAudioEnergy || 0;
        snap.audioDuration += s.totalSamplesDuration || 0;
      }
    } else if (s.type === "media-source" && s.kind === "audio") {
      snap.sentEnergy += s.totalAudioEnergy || 0;
      snap.sentDuration += s.totalSamplesDuration || 0;
    } else if (s.type === "outbound-rtp") {
      snap.bytesOut += s.bytesSent || 0;
      if (s.kind === "video" && s.qualityLimitationReason) {
        snap.limitation = s.qualityLimitationReason;
      }
    }
  }
  const pair = selectedPair(stats, byId);
  if (pair) {
    if (typeof pair.currentRoundTripTime === "number")
      snap.rttMs = pair.currentRoundTripTime * 1000;
    const local = byId.get(pair.localCandidateId);
    const remote = byId.get(pair.remoteCandidateId);
    if (local && remote) {
      const kinds = [local.candidateType, remote.candidateType];
      const kind = /** @type {PathKind} */ (
        PATH_ORDER[Math.max(...kinds.map((k) => PATH_ORDER.indexOf(k)), 0)]
      );
      // Through TURN, what matters is how we reach the relay (relayProtocol).
      const protocol = local.candidateType === "relay" ? local.relayProtocol : local.protocol;
      snap.path = {
        kind,
        local: local.candidateType,
        remote: remote.candidateType,
        transport: protocol === "udp" ? "udp" : "tcp",
      };
    }
  }
  if (snap.rttMs === null) {
    // No round trip on the pair yet: RTCP's, from what the other side receives.
    for (const s of stats) {
      if (s.type === "remote-inbound-rtp" && typeof s.roundTripTime === "number") {
        snap.rttMs = Math.max(snap.rttMs ?? 0, s.roundTripTime * 1000);
      }
    }
  }
  return snap;
}

/**
 * The figures between two snapshots of the same connection (`previous` null:
 * only what one report can tell; rates stay unknown).
 * @param {Snapshot|null} previous
 * @param {Snapshot} current
 * @returns {LinkFigures}
 */
export function linkFigures(previous, current) {
  const seconds = previous ? (current.timestamp - previous.timestamp) / 1000 : 0;
  const rate = seconds > 0;
  /** @param {(s: Snapshot) => number} read */
  const delta = (read) => (previous ? Math.max(0, read(current) - read(previous)) : read(current));
  const lost = delta((s) => s.packetsLost);
  const received = delta((s) => s.packetsReceived);
  const energy = delta((s) => s.audioEnergy);
  const duration = delta((s) => s.audioDuration);
  const sentEnergy = delta((s) => s.sentEnergy);
  const sentDuration = delta((s) => s.sentDuration);
  return {
    path: current.path?.kind ?? null,
    transport: current.path?.transport ?? null,
    rttMs: current.rttMs,
    lossPct: lost + received > 0 ? (100 * lost) / (lost + received) : null,
    jitterMs: current.jitterMs,
    inKbps: rate ? (delta((s) => s.bytesIn) * 8) / 1000 / seconds : null,
    outKbps: rate ? (delta((s) => s.bytesOut) * 8) / 1000 / seconds : null,
    fps: rate ? delta((s) => s.framesDecoded) / seconds : current.fps,
    limitation: current.limitation,
    audioLevel: rate && duration > 0 ? Math.sqrt(energy / duration) : null,
    sentLevel: rate && sentDuration > 0 ? Math.sqrt(sentEnergy / sentDuration) : null,
  };
}

/**
 * Grade a pair from its figures (THRESHOLDS); unknown figures do not count.
 * @param {LinkFigures} figures
 * @param {{video: boolean}} expect whether the other person sends video now
 * @returns {Grade}
 */
export function gradeLink(figures, { video }) {
  const t = THRESHOLDS;
  const { rttMs, lossPct } = figures;
  const fps = video ? figures.fps : null;
  if (
    (rttMs !== null && rttMs >= t.rttBadMs) ||
    (lossPct !== null && lossPct >= t.lossBadPct) ||
    (fps !== null && fps <= t.fpsBad)
  ) {
    return "bad";
  }
  if (
    (rttMs !== null && rttMs >= t.rttGoodMs) ||
    (lossPct !== null && lossPct >= t.lossGoodPct) ||
    (fps !== null && fps <= t.fpsGood)
  ) {
    return "weak";
  }
  return "good";
}
