import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import {
  CHUNK_BYTES,
  cleanName,
  FileTransfers,
  HIGH_WATER_BYTES,
  validOffer,
} from "../../static/js/call/files.js";

/**
 * Two ends of an ordered channel. Sent data waits in `bufferedAmount` until
 * the test delivers it, so backpressure can be watched.
 */
class End extends EventTarget {
  constructor() {
    super();
    this.readyState = "open";
    this.binaryType = "blob";
    this.bufferedAmountLowThreshold = 0;
    this.bufferedAmount = 0;
    this.maxBuffered = 0;
    /** @type {End|null} */
    this.other = null;
    /** @type {(string|ArrayBuffer)[]} */
    this.queue = [];
    /** @type {any[]} frames sent, decoded */
    this.frames = [];
  }
  /** @param {string|ArrayBuffer} data */
  send(data) {
    if (typeof data === "string") this.frames.push(JSON.parse(data));
    this.queue.push(data);
    this.bufferedAmount += typeof data === "string" ? data.length : data.byteLength;
    this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
  }
  /** Deliver everything queued, in order. */
  flush() {
    const data = this.queue.splice(0);
    for (const item of data) {
      this.other?.dispatchEvent(Object.assign(new Event("message"), { data: item }));
    }
    this.bufferedAmount = 0;
    this.dispatchEvent(new Event("bufferedamountlow"));
  }
}

function link(maxBytes = 10_000_000) {
  const a = new End();
  const b = new End();
  a.other = b;
  b.other = a;
  const alice = new FileTransfers({ maxBytes });
  const bob = new FileTransfers({ maxBytes });
  alice.attach("bob", /** @type {any} */ (a));
  bob.attach("alice", /** @type {any} */ (b));
  /** @type {any[]} */
  const seen = [];
  bob.addEventListener("transfer", (e) =>
    seen.push({ .../** @type {CustomEvent} */ (e).detail.transfer }),
  );
  return { a, b, alice, bob, seen };
}

/** Run until nothing moves: deliver both ways, let the sender's reads settle. */
async function run(/** @type {End[]} */ ...ends) {
  for (let round = 0; round < 500; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    if (ends.every((end) => end.queue.length === 0)) {
      await new Promise((resolve) => setImmediate(resolve));
      if (ends.every((end) => end.queue.length === 0)) return;
    }
    for (const end of ends) end.flush();
  }
}

const bytes = (/** @type {number} */ n) => {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) data[i] = (i * 7 + 3) % 251;
  return data;
};
const sha = async (/** @type {Blob} */ blob) =>
  createHash("sha256")
    .update(new Uint8Array(await blob.arrayBuffer()))
    .digest("hex");

test("nothing flows before the receiver accepts; then the file arrives byte-identical", async () => {
  const { a, b, alice, bob } = link();
  const data = bytes(3 * HIGH_WATER_BYTES + 12345);
  const file = Object.assign(new Blob([data]), { name: "보고서.pdf" });
  const [out] = alice.send(file, ["bob", "nobody"]);
  await run(a, b);
  const offered = [...bob.transfers.values()][0];
  assert.deepEqual(
    [offered.state, offered.name, offered.size],
    ["offered", "보고서.pdf", data.length],
  );
  assert.deepEqual(
    a.frames.map((f) => f.type),
    ["file-offer"],
    "no bytes before an answer",
  );
  bob.accept("alice", offered.id);
  await run(a, b);
  assert.equal(out.state, "done");
  assert.equal(offered.state, "done");
  assert.equal(await sha(/** @type {Blob} */ (offered.blob)), await sha(file));
  // Backpressure: the buffer never grew much past the high-water mark.
  assert.ok(a.maxBuffered <= HIGH_WATER_BYTES + CHUNK_BYTES, `${a.maxBuffered}`);
});

test("the size limit holds on both ends", async () => {
  const { a, b, alice } = link(1000);
  assert.throws(() => alice.send(new Blob([bytes(1001)]), ["bob"]), /too-large/);
  assert.throws(() => alice.send(new Blob([]), ["bob"]), /empty/);
  // A sender with a bigger limit than ours is refused before any byte.
  const big = new FileTransfers({ maxBytes: 5000 });
  big.attach("bob", /** @type {any} */ (a));
  const [out] = big.send(new Blob([bytes(2000)]), ["bob"]);
  const received = new FileTransfers({ maxBytes: 1000 });
  received.attach("alice", /** @type {any} */ (b));
  await run(a, b);
  assert.equal(out.state, "refused");
  assert.equal([...received.transfers.values()][0].state, "refused");
});

test("either side can cancel; late chunks and declines are dropped", async () => {
  const { a, b, alice, bob } = link();
  const [first] = alice.send(new Blob([bytes(5000)]), ["bob"]);
  await run(a, b);
  alice.cancel("bob", first.id);
  await run(a, b);
  assert.equal([...bob.transfers.values()][0].state, "cancelled");
  bob.accept("alice", first.id);
  assert.equal([...bob.transfers.values()][0].state, "cancelled", "too late to accept");

  const [second] = alice.send(new Blob([bytes(4 * HIGH_WATER_BYTES)]), ["bob"]);
  await run(a, b);
  bob.accept("alice", second.id);
  b.flush();
  await new Promise((resolve) => setImmediate(resolve));
  a.flush(); // some chunks arrive...
  bob.cancel("alice", second.id); // ...and the receiver stops it
  await run(a, b);
  assert.equal(second.state, "cancelled");
  const incoming = bob.transfers.get(`alice\n${second.id}`);
  assert.equal(incoming?.state, "cancelled");
  assert.equal(incoming?.blob, null);

  const [third] = alice.send(new Blob([bytes(10)]), ["bob"]);
  await run(a, b);
  bob.decline("alice", third.id);
  await run(a, b);
  assert.equal(third.state, "declined");
});

test("a sender that sends more than it offered is stopped", async () => {
  const { b, bob, seen } = link();
  const other = /** @type {End} */ (b.other);
  const deliver = (/** @type {any} */ data) =>
    b.dispatchEvent(Object.assign(new Event("message"), { data }));
  deliver(JSON.stringify({ type: "file-offer", id: "x", name: "a.txt", size: 4 }));
  bob.accept("alice", "x");
  deliver(JSON.stringify({ type: "file-start", id: "x" }));
  deliver(new Uint8Array(8).buffer);
  assert.equal(seen.at(-1).state, "failed");
  assert.deepEqual(
    b.frames.map((f) => f.type),
    ["file-accept", "file-cancel"],
  );
  assert.ok(other);
});

test("offers are checked; names are flattened to plain text", () => {
  assert.equal(validOffer({ type: "file-offer", id: "1", name: "a", size: 0 }, 10), null);
  assert.equal(validOffer({ type: "file-offer", id: "1", name: "a", size: 1.5 }, 10), null);
  assert.equal(validOffer({ type: "file-offer", id: "", name: "a", size: 1 }, 10), null);
  assert.equal(
    validOffer({ type: "file-offer", id: "1", name: "a", size: 11 }, 10)?.tooLarge,
    true,
  );
  assert.equal(cleanName("../../etc/passwd"), ".._.._etc_passwd");
  assert.equal(cleanName("a\u0000b\nc.txt"), "abc.txt");
  assert.equal(cleanName("<img src=x>.png"), "<img src=x>.png", "shown as text, never parsed");
  assert.equal(cleanName("x".repeat(300)).length, 200);
});

test("sizes read as people expect", async () => {
  const { formatBytes } = await import("../../static/js/call/files.js");
  assert.equal(formatBytes(820_000, "en"), "820 kB");
  assert.equal(formatBytes(104_857_600, "en"), "104.9 MB");
  assert.equal(formatBytes(12, "en"), "12 byte");
});
