// Link figures and grades from getStats() reports Chromium recorded in real
// calls (tests/js/fixtures: two reports of one connection, ~1 s apart) of two
// people on loopback: stats-host-self-muted is the page of the one who muted
// their microphone, stats-host-peer-muted the other one's; stats-relay-udp a
// relay-only call through coturn.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { gradeLink, linkFigures, readStats, THRESHOLDS } from "../../static/js/call/health.js";

/** @param {string} name @returns {any[][]} */
const fixture = (name) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"));

/** @param {any[][]} reports */
const figuresOf = ([first, second]) => linkFigures(readStats(first), readStats(second));

/** @type {import("../../static/js/call/health.js").LinkFigures} */
const CLEAN = {
  path: "host",
  transport: "udp",
  rttMs: 5,
  lossPct: 0,
  jitterMs: 2,
  inKbps: 300,
  outKbps: 300,
  fps: 15,
  limitation: "none",
  audioLevel: 0.3,
  sentLevel: 0.3,
};

test("a direct call on loopback: host over UDP, small round trip, no loss, video at 15 fps", () => {
  const figures = figuresOf(fixture("stats-host-self-muted"));
  assert.equal(figures.path, "host");
  assert.equal(figures.transport, "udp");
  assert.ok(figures.rttMs !== null && figures.rttMs >= 0 && figures.rttMs < 20, `${figures.rttMs}`);
  assert.equal(figures.lossPct, 0);
  assert.ok(figures.jitterMs !== null && figures.jitterMs < 30);
  assert.ok(figures.inKbps !== null && figures.inKbps > 50, `${figures.inKbps}`);
  assert.ok(figures.outKbps !== null && figures.outKbps > 50, `${figures.outKbps}`);
  assert.ok(figures.fps !== null && figures.fps > 10 && figures.fps < 20, `${figures.fps}`);
  assert.equal(figures.limitation, "none");
  // Chromium's fake microphone beeps: we hear the other one's; ours is muted.
  assert.ok(figures.audioLevel !== null && figures.audioLevel > 0.1, `${figures.audioLevel}`);
  assert.ok(figures.sentLevel !== null && figures.sentLevel < 0.001, `${figures.sentLevel}`);
  assert.equal(gradeLink(figures, { video: true }), "good");
});

test("the other side muted: what we hear is silence, what we send is not", () => {
  const figures = figuresOf(fixture("stats-host-peer-muted"));
  assert.ok(figures.audioLevel !== null && figures.audioLevel < 0.001, `${figures.audioLevel}`);
  assert.ok(figures.sentLevel !== null && figures.sentLevel > 0.1, `${figures.sentLevel}`);
});

test("a relay-only call: the path is relay, reached over UDP", () => {
  const figures = figuresOf(fixture("stats-relay-udp"));
  assert.equal(figures.path, "relay");
  assert.equal(figures.transport, "udp");
  assert.equal(gradeLink(figures, { video: true }), "good");
});

test("TURN over TCP counts as TCP, and a srflx end makes the path srflx", () => {
  const [first, second] = fixture("stats-relay-udp");
  for (const s of second) if (s.type === "local-candidate") s.relayProtocol = "tcp";
  assert.equal(linkFigures(readStats(first), readStats(second)).transport, "tcp");
  const [a, b] = fixture("stats-host-self-muted");
  for (const s of b) if (s.type === "remote-candidate") s.candidateType = "srflx";
  assert.equal(linkFigures(readStats(a), readStats(b)).path, "srflx");
});

test("loss is counted over the interval, not since the call started", () => {
  const [first, second] = fixture("stats-host-self-muted");
  const video = (/** @type {any[]} */ report) =>
    report.find((s) => s.type === "inbound-rtp" && s.kind === "video");
  const received = video(second).packetsReceived - video(first).packetsReceived;
  // 1000 lost before the first report, and one lost for every 9 received since.
  video(first).packetsLost = 1000;
  const audio = second.find((s) => s.type === "inbound-rtp" && s.kind === "audio");
  const audioReceived =
    audio.packetsReceived -
    first.find((s) => s.type === "inbound-rtp" && s.kind === "audio").packetsReceived;
  const lostNow = Math.round((received + audioReceived) / 9);
  video(second).packetsLost = 1000 + lostNow;
  const figures = linkFigures(readStats(first), readStats(second));
  const expected = (100 * lostNow) / (lostNow + received + audioReceived);
  assert.ok(Math.abs(/** @type {number} */ (figures.lossPct) - expected) < 1e-9);
  assert.equal(gradeLink(figures, { video: true }), "bad");
});

test("a single report gives no rates yet", () => {
  const [first] = fixture("stats-host-self-muted");
  const figures = linkFigures(null, readStats(first));
  assert.equal(figures.inKbps, null);
  assert.equal(figures.outKbps, null);
  assert.equal(figures.audioLevel, null);
  assert.equal(figures.path, "host");
});

test("an RTCStatsReport-like map reads the same as its values", () => {
  const [first] = fixture("stats-host-self-muted");
  const map = new Map(first.map((s) => [s.id, s]));
  assert.deepEqual(readStats(map), readStats(first));
});

test("grades follow the documented thresholds", () => {
  const t = THRESHOLDS;
  /** @param {Partial<typeof CLEAN>} changes @param {boolean} [video] */
  const grade = (changes, video = true) => gradeLink({ ...CLEAN, ...changes }, { video });
  assert.equal(grade({}), "good");
  assert.equal(grade({ rttMs: t.rttGoodMs - 1 }), "good");
  assert.equal(grade({ rttMs: t.rttGoodMs }), "weak");
  assert.equal(grade({ rttMs: t.rttBadMs }), "bad");
  assert.equal(grade({ lossPct: t.lossGoodPct - 0.1 }), "good");
  assert.equal(grade({ lossPct: t.lossGoodPct }), "weak");
  assert.equal(grade({ lossPct: t.lossBadPct }), "bad");
  assert.equal(grade({ fps: t.fpsGood + 1 }), "good");
  assert.equal(grade({ fps: t.fpsGood }), "weak");
  assert.equal(grade({ fps: 0 }), "bad");
  // No video expected (camera off): the frame rate does not count.
  assert.equal(grade({ fps: 0 }, false), "good");
  // Unknown figures do not count either.
  assert.equal(grade({ rttMs: null, lossPct: null, fps: null }), "good");
});
