import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { cleanName, parseFrame, readOffer } from "../../static/js/call/file-frames.js";
import {
  CHUNK_BYTES,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
} from "../../static/js/call/file-sender.js";
import { FileTransfers, MAX_WAITING_OFFERS } from "../../static/js/call/files.js";
import { formatBytes } from "../../static/js/call/format.js";

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
  close() {
    this.readyState = "closed";
    this.dispatchEvent(new Event("close"));
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

/** What the other side of `end` would receive, as if sent by a tampered-with page. */
const deliver = (/** @type {End} */ end, /** @type {any} */ data) =>
  end.dispatchEvent(
    Object.assign(new Event("message"), {
      data: typeof data === "string" || data instanceof ArrayBuffer ? data : JSON.stringify(data),
    }),
  );
const only = (/** @type {FileTransfers} */ side) => [...side.transfers.values()];

test("nothing flows before the receiver accepts; then the file arrives byte-identical", async () => {
  const { a, b, alice, bob } = link();
  const data = bytes(3 * HIGH_WATER_BYTES + 12345);
  const file = Object.assign(new Blob([data]), { name: "보고서.pdf" });
  const [out] = alice.send(file, ["bob", "nobody"]);
  await run(a, b);
  const [offered] = only(bob);
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
  assert.equal(a.bufferedAmountLowThreshold, LOW_WATER_BYTES);
  assert.deepEqual(
    b.frames.map((f) => f.type),
    ["file-accept", "file-done"],
  );
});

test("the sender is done only when the receiver confirmed every byte", async () => {
  const { a, b, alice, bob } = link();
  const [out] = alice.send(new Blob([bytes(100)]), ["bob"]);
  await run(a, b);
  bob.accept("alice", out.id);
  b.flush();
  await run(a); // bob gets every byte and file-end; his confirmation waits in b
  assert.equal(out.done, 100);
  assert.equal(out.state, "sending");
  a.flush();
  b.flush();
  assert.equal(out.state, "done");
});

test("a file for one person is offered to that person only", async () => {
  const { a, b, alice } = link();
  const c = new End();
  alice.attach("sora", /** @type {any} */ (c));
  const sent = alice.send(new Blob([bytes(10)]), ["sora"]);
  assert.deepEqual(
    sent.map((t) => t.peer),
    ["sora"],
  );
  assert.deepEqual(
    c.frames.map((f) => f.type),
    ["file-offer"],
  );
  assert.deepEqual(a.frames, [], "the other person's channel carries nothing");
  assert.equal(b.queue.length, 0);
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
  assert.equal(only(received)[0].state, "refused");
  assert.ok(!a.frames.some((f) => f.type === "file-start"));
});

test("either side can cancel, before or while it streams; late chunks are dropped", async () => {
  const { a, b, alice, bob } = link();
  const [first] = alice.send(new Blob([bytes(5000)]), ["bob"]);
  await run(a, b);
  alice.cancel("bob", first.id);
  await run(a, b);
  assert.equal(only(bob)[0].state, "cancelled");
  bob.accept("alice", first.id);
  assert.equal(only(bob)[0].state, "cancelled", "too late to accept");

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
  assert.ok(second.done < second.size, "the sender stopped early");

  const [third] = alice.send(new Blob([bytes(4 * HIGH_WATER_BYTES)]), ["bob"]);
  await run(a, b);
  bob.accept("alice", third.id);
  b.flush();
  await new Promise((resolve) => setImmediate(resolve));
  a.flush();
  alice.cancel("bob", third.id); // the sender stops it midway
  await run(a, b);
  assert.equal(bob.transfers.get(`alice\n${third.id}`)?.state, "cancelled");
  assert.ok(third.done < third.size);

  const [fourth] = alice.send(new Blob([bytes(10)]), ["bob"]);
  await run(a, b);
  bob.decline("alice", fourth.id);
  await run(a, b);
  assert.equal(fourth.state, "declined");
});

test("a sender that sends more than it offered is stopped, and told why", async () => {
  const { b, bob, seen } = link();
  deliver(b, { type: "file-offer", id: "x", name: "a.txt", size: 4 });
  bob.accept("alice", "x");
  deliver(b, { type: "file-start", id: "x" });
  deliver(b, new Uint8Array(8).buffer);
  assert.deepEqual([seen.at(-1).state, seen.at(-1).error], ["failed", "too-many-bytes"]);
  assert.deepEqual(b.frames.at(-1), { type: "file-cancel", id: "x", reason: "too-many-bytes" });
  // The honest sender's side of the same: the file did not arrive intact.
  const { a, b: other, alice } = link();
  const [out] = alice.send(new Blob([bytes(4)]), ["bob"]);
  deliver(a, { type: "file-accept", id: out.id });
  deliver(a, { type: "file-cancel", id: out.id, reason: "too-many-bytes" });
  assert.deepEqual([out.state, out.error], ["failed", "corrupt"]);
  assert.ok(other);
});

test("malformed frames change nothing; a transfer under way still arrives whole", async () => {
  const { a, b, alice, bob } = link();
  const data = bytes(2 * HIGH_WATER_BYTES);
  const [out] = alice.send(new Blob([data]), ["bob"]);
  await run(a, b);
  bob.accept("alice", out.id);
  b.flush();
  await new Promise((resolve) => setImmediate(resolve));
  a.flush(); // midway...
  const warn = console.warn;
  console.warn = () => {};
  try {
    for (const junk of [
      "not json",
      "[1]",
      "null",
      { type: "file-start" },
      { type: "file-start", id: "x".repeat(65) },
      { type: "file-start", id: "a b" },
      { type: "file-nonsense", id: "x" },
      { type: "file-accept", id: "nobody-offered-this" },
      { type: "file-done", id: out.id },
    ]) {
      deliver(b, junk);
      deliver(a, junk);
    }
    deliver(b, { type: "file-offer", id: "bad-size", name: "a", size: -1 });
    deliver(b, { type: "file-offer", id: "huge", name: "a", size: Number.MAX_VALUE });
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(
    b.frames.filter((f) => f.type === "file-decline"),
    [
      { type: "file-decline", id: "bad-size", reason: "malformed" },
      { type: "file-decline", id: "huge", reason: "malformed" },
    ],
  );
  assert.equal(out.state, "sending", "a forged file-done does not finish it early");
  await run(a, b);
  const [incoming] = only(bob);
  assert.equal(only(bob).length, 1, "no transfer came from the junk");
  assert.equal(incoming.state, "done");
  assert.equal(out.state, "done");
  assert.equal(await sha(/** @type {Blob} */ (incoming.blob)), await sha(new Blob([data])));
});

test("a file that ends short, or is cut off by the next one, fails as incomplete", () => {
  const { b, bob, seen } = link();
  deliver(b, { type: "file-offer", id: "short", name: "a", size: 10 });
  deliver(b, { type: "file-offer", id: "next", name: "b", size: 2 });
  bob.accept("alice", "short");
  bob.accept("alice", "next");
  deliver(b, { type: "file-start", id: "short" });
  deliver(b, new Uint8Array(3).buffer);
  deliver(b, { type: "file-start", id: "next" });
  assert.deepEqual(
    [bob.transfers.get("alice\nshort")?.state, bob.transfers.get("alice\nshort")?.error],
    ["failed", "incomplete"],
  );
  deliver(b, new Uint8Array(1).buffer);
  deliver(b, { type: "file-end", id: "next" });
  assert.deepEqual([seen.at(-1).id, seen.at(-1).error], ["next", "incomplete"]);
  assert.deepEqual(
    b.frames.filter((f) => f.type === "file-cancel").map((f) => [f.id, f.reason]),
    [
      ["short", "incomplete"],
      ["next", "incomplete"],
    ],
  );
});

test("a repeated file-start keeps the bytes so far: what is done is whole", async () => {
  const { b, bob } = link();
  deliver(b, { type: "file-offer", id: "twice", name: "a", size: 4 });
  bob.accept("alice", "twice");
  deliver(b, { type: "file-start", id: "twice" });
  deliver(b, new Uint8Array([1, 2]).buffer);
  deliver(b, { type: "file-start", id: "twice" });
  deliver(b, new Uint8Array([3, 4]).buffer);
  deliver(b, { type: "file-end", id: "twice" });
  const [incoming] = only(bob);
  assert.equal(incoming.state, "done");
  const blob = /** @type {Blob} */ (incoming.blob);
  assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [1, 2, 3, 4]);
});

test("a peer flooding offers is declined as busy once too many wait", () => {
  const { b, bob } = link();
  for (let i = 0; i <= MAX_WAITING_OFFERS; i += 1) {
    deliver(b, { type: "file-offer", id: `f${i}`, name: "a", size: 1 });
  }
  assert.equal(only(bob).length, MAX_WAITING_OFFERS);
  assert.deepEqual(b.frames, [
    { type: "file-decline", id: `f${MAX_WAITING_OFFERS}`, reason: "busy" },
  ]);
});

test("a file that cannot be read, or a channel that closes, fails with the reason", async () => {
  const { a, b, alice, bob } = link();
  const broken = Object.assign(new Blob([bytes(10)]), {
    slice: () => ({ arrayBuffer: () => Promise.reject(new Error("gone")) }),
  });
  const [out] = alice.send(/** @type {Blob} */ (broken), ["bob"]);
  await run(a, b);
  bob.accept("alice", out.id);
  await run(a, b);
  assert.deepEqual([out.state, out.error], ["failed", "unreadable"]);
  assert.equal(only(bob)[0].state, "cancelled");

  const [next] = alice.send(new Blob([bytes(10)]), ["bob"]);
  await run(a, b);
  a.close();
  assert.deepEqual([next.state, next.error], ["failed", "closed"]);
});

test("frames are checked; names are flattened to plain text", () => {
  assert.equal(parseFrame("{"), null);
  assert.equal(parseFrame('{"type":"file-offer"}'), null);
  assert.equal(parseFrame('{"type":"chat","id":"1"}'), null);
  assert.equal(parseFrame('{"type":"file-cancel","id":"1","reason":"<b>"}')?.reason, "");
  assert.equal(parseFrame('{"type":"file-decline","id":"1","reason":"busy"}')?.reason, "busy");
  const offer = (/** @type {any} */ size) =>
    readOffer({ type: "file-offer", id: "1", reason: "", name: "a", size });
  assert.equal(offer(0), null);
  assert.equal(offer(1.5), null);
  assert.equal(offer("5"), null);
  assert.equal(offer(11)?.size, 11);
  assert.equal(cleanName("../../etc/passwd"), ".._.._etc_passwd");
  assert.equal(cleanName("a\u0000b\nc.txt"), "abc.txt");
  assert.equal(cleanName("<img src=x>.png"), "<img src=x>.png", "shown as text, never parsed");
  assert.equal(cleanName("x".repeat(300)).length, 200);
});

test("sizes read as people expect", () => {
  assert.equal(formatBytes(820_000, "en"), "820 kB");
  assert.equal(formatBytes(104_857_600, "en"), "104.9 MB");
  assert.equal(formatBytes(12, "en"), "12 byte");
});
