// The mesh safety check: fingerprints from SDP, the room code, what the ends
// of each pair say about each other, and frames that must change nothing.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { SafetyCheck } from "../../static/js/call/safety-check.js";
import {
  CODE_DIGITS,
  FRAME_TYPE,
  fingerprintValue,
  Ledger,
  roomCode,
  sdpFingerprints,
  validReport,
} from "../../static/js/call/safety.js";

/**
 * A SHA-256 fingerprint, made up from a label.
 * @param {string} label
 */
function fp(label) {
  const hex = createHash("sha256").update(label).digest("hex").toUpperCase();
  return `sha-256 ${hex.match(/../g)?.join(":")}`;
}

/** @param {string} fingerprint */
const sdp = (fingerprint) =>
  [
    "v=0",
    "o=- 4611 2 IN IP4 127.0.0.1",
    "a=group:BUNDLE 0 1 2",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    `a=fingerprint:${fingerprint}`,
    "m=video 9 UDP/TLS/RTP/SAVPF 96",
    `a=fingerprint:${fingerprint}`,
    "",
  ].join("\r\n");

/**
 * Every page of a mesh, each with its own ledger. `cert(x, y)` is the
 * certificate x uses on its connection to y; `seen(x, y)` what x's SDP says
 * y uses (the same, unless someone swapped it).
 * @param {string[]} ids
 * @param {{seen?: (x: string, y: string) => string, generation?: number}} [options]
 */
function mesh(ids, { seen, generation = 0 } = {}) {
  const cert = (/** @type {string} */ x, /** @type {string} */ y) => fp(`${x}>${y}#${generation}`);
  const see = seen || ((x, y) => cert(y, x));
  /** @type {Map<string, Ledger>} */
  const pages = new Map();
  for (const id of ids) {
    const ledger = new Ledger();
    ledger.self = id;
    for (const other of ids) {
      if (other !== id) ledger.setOwn(other, { local: cert(id, other), remote: see(id, other) });
    }
    pages.set(id, ledger);
  }
  return { pages, cert };
}

/**
 * Everyone sends everyone their report, `rounds` times (a dispute found in
 * one round travels in the next).
 * @param {Map<string, Ledger>} pages
 * @param {{rounds?: number, forge?: (from: string, to: string, frame: any) => any}} [options]
 */
function exchange(pages, { rounds = 2, forge = (_f, _t, frame) => frame } = {}) {
  for (let round = 0; round < rounds; round += 1) {
    const frames = new Map(
      [...pages].map(([id, ledger]) => [id, ledger.frame(ledger.assess(others(pages, id)))]),
    );
    for (const [from, frame] of frames) {
      for (const [to, ledger] of pages) {
        if (to !== from) ledger.receive(from, JSON.parse(JSON.stringify(forge(from, to, frame))));
      }
    }
  }
}

/** @param {Map<string, Ledger>} pages @param {string} id */
const others = (pages, id) => [...pages.keys()].filter((other) => other !== id);

/** @param {Map<string, Ledger>} pages @param {string} id */
const assess = (pages, id) => /** @type {Ledger} */ (pages.get(id)).assess(others(pages, id));

test("fingerprints come from every a=fingerprint line, in one canonical form", () => {
  const one = fp("a");
  assert.equal(sdpFingerprints(sdp(one)), one, "BUNDLE repeats the same one");
  assert.equal(sdpFingerprints(sdp(one.toLowerCase())), one, "hex in upper case");
  const both = `${sdp(one)}a=fingerprint:SHA-1 ${"AB:".repeat(19)}CD\r\n`;
  assert.equal(
    sdpFingerprints(both),
    `${one},sha-1 ${"AB:".repeat(19)}CD`.split(",").sort().join(","),
  );
  assert.equal(sdpFingerprints("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), null);
  assert.equal(sdpFingerprints(undefined), null);
  assert.equal(sdpFingerprints(sdp("sha-256 AB:CD")), null, "too short to be a digest");
  assert.equal(fingerprintValue(one.toLowerCase()), one);
  assert.equal(fingerprintValue(`${one},${one}`), one);
  for (const bad of [42, "", "sha-256", "sha-256 XY:ZZ", `${one} `, "x".repeat(2000)]) {
    assert.equal(fingerprintValue(bad), null, String(bad).slice(0, 20));
  }
});

test("the room code is the same whatever order the fingerprints were learnt in", async () => {
  const all = ["a", "b", "c", "d", "e", "f"].map(fp);
  const code = await roomCode(all);
  assert.match(code, /^\d{4} \d{4} \d{4}$/);
  assert.equal(code.replaceAll(" ", "").length, CODE_DIGITS);
  assert.equal(await roomCode([...all].reverse()), code);
  assert.equal(await roomCode([all[3], all[0], all[5], all[1], all[4], all[2]]), code);
  assert.notEqual(await roomCode([...all.slice(1), fp("g")]), code, "one certificate changed");
});

test("in a clean call every page verifies every pair and gets the same code", async () => {
  const { pages } = mesh(["ann", "bob", "cho", "dee"]);
  assert.equal(assess(pages, "ann").status, "checking", "nobody has reported yet");
  exchange(pages);
  const codes = new Set();
  for (const id of pages.keys()) {
    const result = assess(pages, id);
    assert.equal(result.status, "verified", id);
    assert.deepEqual(result.disputes, []);
    assert.equal(result.fingerprints?.length, 12, "4 people: 6 pairs, 2 certificates each");
    codes.add(await roomCode(/** @type {string[]} */ (result.fingerprints)));
  }
  assert.equal(codes.size, 1);
});

test("alone there is nothing to check and no code", () => {
  const ledger = new Ledger();
  ledger.self = "ann";
  assert.deepEqual(ledger.assess([]), {
    status: "alone",
    fingerprints: null,
    disputes: [],
    found: [],
  });
});

test("a certificate swapped on one pair is seen by a third page, and everyone is warned", async () => {
  // The server put its own certificates in the SDP of the pair ann–bob, and
  // rewrites what ann and bob tell each other on that pair's channel.
  const swapped = (/** @type {string} */ x, /** @type {string} */ y) =>
    fp(`mallory-as-${y}-to-${x}`);
  const { pages, cert } = mesh(["ann", "bob", "cho"], {
    seen: (x, y) =>
      `${x}${y}` === "annbob" || `${x}${y}` === "bobann" ? swapped(x, y) : fp(`${y}>${x}#0`),
  });
  const forge = (
    /** @type {string} */ from,
    /** @type {string} */ to,
    /** @type {any} */ frame,
  ) => {
    if (!((from === "ann" && to === "bob") || (from === "bob" && to === "ann"))) return frame;
    // What the receiver expects to hear: its own certificate, and the fake one it sees.
    const pairs = frame.pairs.map((/** @type {any} */ entry) =>
      entry.peer === to ? { peer: to, local: swapped(to, from), remote: cert(to, from) } : entry,
    );
    return { ...frame, pairs, mismatch: [] };
  };
  exchange(pages, { rounds: 1, forge });
  assert.deepEqual(assess(pages, "cho").found, [["ann", "bob"]]);
  // On their own, ann and bob are fooled: every report they get agrees.
  assert.equal(assess(pages, "ann").status, "verified");
  assert.equal(assess(pages, "bob").status, "verified");
  exchange(pages, { rounds: 1, forge });
  for (const id of pages.keys()) {
    const result = assess(pages, id);
    assert.equal(result.status, "mismatch", id);
    assert.deepEqual(result.disputes, [["ann", "bob"]]);
  }
  // Even where nobody could see it, the codes of ann and bob differ.
  const code = async (/** @type {string} */ id) =>
    roomCode(/** @type {string[]} */ (assess(pages, id).fingerprints));
  assert.notEqual(await code("ann"), await code("bob"));
});

test("a report naming another certificate for its sender is a mismatch", () => {
  const { pages, cert } = mesh(["ann", "bob", "cho"]);
  exchange(pages);
  const ann = /** @type {Ledger} */ (pages.get("ann"));
  // bob's page (or anyone on its channel) claims a certificate bob never used.
  ann.receive("bob", {
    type: FRAME_TYPE,
    pairs: [
      { peer: "ann", local: fp("forged"), remote: cert("ann", "bob") },
      { peer: "cho", local: cert("bob", "cho"), remote: cert("cho", "bob") },
    ],
  });
  assert.deepEqual(assess(pages, "ann").found, [["ann", "bob"]]);
  assert.equal(assess(pages, "ann").status, "mismatch");
});

test("a rebuilt pair's crossing reports wait for each other instead of warning", async () => {
  const { pages } = mesh(["ann", "bob", "cho"]);
  exchange(pages);
  const before = await roomCode(/** @type {string[]} */ (assess(pages, "cho").fingerprints));
  // ann and bob rebuild their pair: both get new certificates.
  const fresh = mesh(["ann", "bob"], { generation: 1 });
  for (const [id, other] of [
    ["ann", "bob"],
    ["bob", "ann"],
  ]) {
    const view = /** @type {any} */ (fresh.pages.get(id)).own.get(other);
    /** @type {Ledger} */ (pages.get(id)).setOwn(other, view);
  }
  const cho = /** @type {Ledger} */ (pages.get("cho"));
  const ann = /** @type {Ledger} */ (pages.get("ann"));
  // ann's new report reaches cho before bob's.
  cho.receive("ann", ann.frame(assess(pages, "ann")));
  assert.equal(assess(pages, "cho").status, "checking");
  assert.deepEqual(assess(pages, "cho").found, []);
  // And bob's old report reaches ann after ann's rebuild.
  assert.equal(assess(pages, "ann").status, "checking");
  exchange(pages);
  for (const id of pages.keys()) assert.equal(assess(pages, id).status, "verified", id);
  const after = await roomCode(/** @type {string[]} */ (assess(pages, "cho").fingerprints));
  assert.notEqual(after, before, "the code follows the rebuilt pair");
  assert.equal(await roomCode(/** @type {string[]} */ (assess(pages, "bob").fingerprints)), after);
});

test("malformed and forged frames are dropped whole and change nothing", () => {
  const good = { type: FRAME_TYPE, pairs: [{ peer: "ann", local: fp("b"), remote: fp("a") }] };
  assert.ok(validReport(good, "bob"));
  const entry = good.pairs[0];
  const bad = [
    null,
    "fingerprints",
    { type: "chat" },
    { type: FRAME_TYPE },
    { type: FRAME_TYPE, pairs: "all" },
    { type: FRAME_TYPE, pairs: Array(9).fill(entry) },
    { type: FRAME_TYPE, pairs: [entry, entry] },
    { type: FRAME_TYPE, pairs: [{ ...entry, peer: "bob" }] },
    { type: FRAME_TYPE, pairs: [{ ...entry, peer: "x".repeat(65) }] },
    { type: FRAME_TYPE, pairs: [{ ...entry, local: "sha-256 00" }] },
    { type: FRAME_TYPE, pairs: [{ ...entry, remote: { toString: () => fp("a") } }] },
    { ...good, mismatch: "ann" },
    { ...good, mismatch: [["ann"]] },
    { ...good, mismatch: [["ann", "ann"]] },
    { ...good, mismatch: [["ann", 7]] },
    { ...good, mismatch: Array(9).fill(["ann", "cho"]) },
  ];
  for (const frame of bad) assert.equal(validReport(frame, "bob"), null, JSON.stringify(frame));

  const { pages } = mesh(["ann", "bob", "cho"]);
  exchange(pages);
  const ann = /** @type {Ledger} */ (pages.get("ann"));
  const before = JSON.stringify(assess(pages, "ann"));
  for (const frame of bad) assert.equal(ann.receive("bob", frame), false);
  assert.equal(JSON.stringify(assess(pages, "ann")), before, "bob's last good report stands");
  // A dispute about people not in this call (someone who left) is not ours to show.
  ann.receive("cho", { ...ann.frame(assess(pages, "ann")), pairs: [], mismatch: [["x", "y"]] });
  assert.equal(assess(pages, "ann").status, "checking");
  assert.deepEqual(assess(pages, "ann").disputes, []);
});

test("someone who leaves takes their pairs, reports and disputes along", () => {
  const { pages } = mesh(["ann", "bob", "cho"]);
  exchange(pages);
  const ann = /** @type {Ledger} */ (pages.get("ann"));
  ann.receive("cho", { ...ann.frame(assess(pages, "ann")), pairs: [], mismatch: [["bob", "cho"]] });
  assert.equal(ann.assess(["bob", "cho"]).status, "mismatch");
  ann.forget("cho");
  const result = ann.assess(["bob"]);
  assert.equal(result.status, "verified");
  assert.equal(result.fingerprints?.length, 2);
});

// --- The check on a call session ---------------------------------------------------

/** A session as the check sees it: events, a roster of pairs, a mesh that broadcasts. */
function fakeSession() {
  /** @type {string[]} */
  const broadcasts = [];
  const session = Object.assign(new EventTarget(), {
    selfId: "ann",
    inCall: true,
    roster: new Map(),
    mesh: { broadcast: (/** @type {string} */ data) => broadcasts.push(data) },
  });
  /** @param {string} type @param {object} detail */
  const emit = (type, detail) => session.dispatchEvent(new CustomEvent(type, { detail }));
  return { session, broadcasts, emit };
}

/** A pair whose connection has negotiated these certificates. */
function fakePair(/** @type {string} */ local, /** @type {string} */ remote) {
  /** @type {string[]} */
  const sent = [];
  const pair = Object.assign(new EventTarget(), {
    pc: {
      currentLocalDescription: { sdp: sdp(local) },
      currentRemoteDescription: { sdp: sdp(remote) },
    },
    sendData: (/** @type {string} */ data) => sent.push(data) > 0,
  });
  return { pair, sent };
}

/**
 * The next state the check shows.
 * @param {SafetyCheck} check
 * @returns {Promise<any>}
 */
const nextChange = (check) =>
  new Promise((resolve) => {
    check.addEventListener("change", (e) => resolve(/** @type {CustomEvent} */ (e).detail), {
      once: true,
    });
  });

test("the check reports our views, greets opened channels and shows the code", async () => {
  const { session, broadcasts, emit } = fakeSession();
  const check = new SafetyCheck({ session: /** @type {any} */ (session) });
  const { pair, sent } = fakePair(fp("ann>bob"), fp("bob>ann"));
  const bob = { id: "bob", pair };
  session.roster.set("bob", bob);
  emit("participant-joined", { participant: bob });
  assert.equal(broadcasts.length, 1);
  assert.deepEqual(JSON.parse(broadcasts[0]), {
    type: FRAME_TYPE,
    pairs: [{ peer: "bob", local: fp("ann>bob"), remote: fp("bob>ann") }],
    mismatch: [],
  });
  pair.dispatchEvent(new Event("channel-open"));
  assert.deepEqual(sent, broadcasts, "an opened channel gets the report as it stands");
  let changed = nextChange(check);
  emit("fingerprints", {
    participant: bob,
    frame: {
      type: FRAME_TYPE,
      pairs: [{ peer: "ann", local: fp("bob>ann"), remote: fp("ann>bob") }],
    },
  });
  const last = await changed;
  assert.equal(last.status, "verified");
  assert.equal(last.code, await roomCode([fp("ann>bob"), fp("bob>ann")]));
  assert.equal(broadcasts.length, 1, "nothing of ours changed: nothing sent again");

  // A forged report from bob's channel: our report now names the dispute.
  changed = nextChange(check);
  emit("fingerprints", {
    participant: bob,
    frame: {
      type: FRAME_TYPE,
      pairs: [{ peer: "ann", local: fp("mallory"), remote: fp("ann>bob") }],
    },
  });
  const warned = await changed;
  assert.equal(warned.status, "mismatch");
  assert.deepEqual(warned.disputes, [["ann", "bob"]]);
  assert.deepEqual(JSON.parse(/** @type {string} */ (broadcasts.at(-1))).mismatch, [
    ["ann", "bob"],
  ]);

  session.roster.delete("bob");
  changed = nextChange(check);
  emit("participant-left", { participant: bob });
  assert.deepEqual(await changed, { status: "alone", code: null, disputes: [] });
});
