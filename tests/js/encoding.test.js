import assert from "node:assert/strict";
import { test } from "node:test";

import {
  parseView,
  planEncodings,
  scaleFor,
  ViewReporter,
  viewFrame,
  withOpusOptions,
} from "../../static/js/call/encoding.js";
import { videoEncodingFor } from "../../static/js/call/mesh.js";

const budget = { videoKbps: 2500, perPeerMaxKbps: 1500 };

/** @param {Record<string, {height: number, lossy?: boolean}>} views */
function viewsOf(views) {
  return new Map(
    Object.entries(views).map(([id, v]) => [id, { height: v.height, lossy: !!v.lossy }]),
  );
}

test("without views every copy follows the even split (as before)", () => {
  for (const count of [1, 2, 3]) {
    const receivers = ["b", "c", "d"].slice(0, count);
    const plan = planEncodings({ receivers, views: new Map(), sourceHeight: 720, budget });
    for (const id of receivers) assert.deepEqual(plan.get(id), videoEncodingFor(count, budget));
  }
});

test("a receiver with a small tile gets a smaller resolution and fewer bits", () => {
  const plan = planEncodings({
    receivers: ["big", "small"],
    views: viewsOf({ big: { height: 720 }, small: { height: 180 } }),
    sourceHeight: 720,
    budget,
  });
  const big = plan.get("big");
  const small = plan.get("small");
  assert.equal(big?.scaleResolutionDownBy, 1);
  assert.equal(small?.scaleResolutionDownBy, 4);
  assert.ok((small?.maxBitrate ?? 0) < (big?.maxBitrate ?? 0));
  assert.equal(big?.maxBitrate, 1_500_000); // its need, within the per-peer cap
});

test("the copies never add up to more than the budget", () => {
  for (const heights of [
    [720, 720, 720],
    [1080, 90, 400],
    [0, 360, 2000],
    [50, 60, 70],
  ]) {
    const receivers = ["b", "c", "d"];
    const views = viewsOf(
      Object.fromEntries(receivers.map((id, i) => [id, { height: heights[i] }])),
    );
    const plan = planEncodings({ receivers, views, sourceHeight: 720, budget });
    const total = [...plan.values()].reduce((sum, e) => sum + (e.maxBitrate ?? 0), 0);
    assert.ok(total <= budget.videoKbps * 1000 + receivers.length, `${heights}: ${total}`);
  }
});

test("a lossy receiver's copy is cut; a shared screen keeps full resolution", () => {
  const views = viewsOf({ b: { height: 360, lossy: true }, c: { height: 360 } });
  const plan = planEncodings({ receivers: ["b", "c"], views, sourceHeight: 720, budget });
  assert.ok((plan.get("b")?.maxBitrate ?? 0) < (plan.get("c")?.maxBitrate ?? 0));
  const screen = planEncodings({
    receivers: ["b", "c"],
    views,
    sourceHeight: 1080,
    budget,
    screen: true,
  });
  assert.equal(screen.get("c")?.scaleResolutionDownBy, 1);
  assert.equal(screen.get("c")?.maxFramerate, 15);
});

test("scale steps: never below 1, never above 4, in quarters", () => {
  assert.equal(scaleFor(720, 1440), 1);
  assert.equal(scaleFor(720, 400), 1.75);
  assert.equal(scaleFor(720, 10), 4);
  assert.equal(scaleFor(0, 300), 1);
});

test("view frames: only a sane height is accepted", () => {
  assert.deepEqual(parseView(viewFrame(359.6, true)), { height: 360, lossy: true });
  for (const bad of [
    null,
    {},
    { type: "view" },
    { type: "view", h: -1 },
    { type: "view", h: "9" },
    { type: "view", h: Infinity },
    { type: "view", h: 1e9 },
    { type: "chat", h: 100 },
  ]) {
    assert.equal(parseView(bad), null, JSON.stringify(bad));
  }
});

test("Opus is asked for in-band FEC and DTX, other codecs untouched", () => {
  const sdp = [
    "v=0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63",
    "a=rtpmap:111 opus/48000/2",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2",
    "a=fmtp:63 111/111",
    "",
  ].join("\r\n");
  const out = withOpusOptions(sdp);
  assert.match(out, /a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n/);
  assert.match(out, /a=fmtp:63 111\/111\r\n/);
  assert.equal(withOpusOptions(out), out);
  assert.equal(withOpusOptions("v=0\r\n"), "v=0\r\n");
});

test("the view reporter tells each pair once, again when it changes or is rebuilt", () => {
  /** @type {string[]} */
  const sent = [];
  const pair = {
    pc: {},
    open: true,
    sendData: (/** @type {string} */ d) => pair.open && !!sent.push(d),
  };
  const participant = { link: null, pair };
  const session = { roster: new Map([["b", participant]]) };
  const views = new ViewReporter({ session: /** @type {any} */ (session) });
  pair.open = false;
  views.report("b", 300); // channel not open yet: tried again later
  assert.equal(sent.length, 0);
  pair.open = true;
  views.send("b");
  views.send("b");
  assert.deepEqual(
    sent.map((d) => JSON.parse(d)),
    [{ type: "view", h: 300, lossy: false }],
  );
  /** @type {any} */ (participant).link = { figures: { lossPct: 12 } };
  views.send("b");
  assert.equal(JSON.parse(sent.at(-1) ?? "{}").lossy, true);
  pair.pc = {}; // rebuilt
  views.send("b");
  assert.equal(sent.length, 3);
  session.roster.delete("b");
  views.send("b");
  assert.equal(views.heights.has("b"), false);
});
