import assert from "node:assert/strict";
import { test } from "node:test";
import { Chat, ME, validMessage } from "../../static/js/call/chat.js";

const BOB = { id: "bob-peer-id", name: "Bob" };
const EVE = { id: "eve-peer-id", name: "Eve" };

/** @param {string} id @param {any} text @param {number} ts */
const m = (id, text, ts) => ({ type: "chat", id, name: "B", text, ts });

test("duplicates, malformed and oversized messages are dropped; order is by time", () => {
  const chat = new Chat({ name: "A", maxLength: 10, history: 2 });
  /** @type {string[]} */
  const seen = [];
  chat.addEventListener("message", (e) =>
    seen.push(/** @type {CustomEvent} */ (e).detail.message.text),
  );
  chat.receive(m("1", "second", 20), BOB);
  chat.receive(m("1", "second", 20), BOB);
  chat.receive(m("2", "first", 10), BOB);
  chat.receive(m("3", "x".repeat(11), 30), BOB);
  chat.receive(m("4", 5, 1), BOB);
  chat.receive("not a frame", BOB);
  chat.receive(null, BOB);
  chat.receive({ type: "history", messages: [m("2", "first", 10), m("5", "third", 40)] }, BOB);
  assert.deepEqual(seen, ["second", "first", "third"]);
  assert.deepEqual(
    chat.messages.map((x) => x.text),
    ["first", "second", "third"],
  );
});

test("the sender is the peer the frame came from, never the name inside it", () => {
  const chat = new Chat({ name: "A" });
  chat.receive({ type: "chat", id: "1", name: "Bob", from: BOB.id, text: "I am Bob", ts: 1 }, EVE);
  chat.receive(
    { type: "history", messages: [{ type: "chat", id: "2", name: "Host", text: "old", ts: 0 }] },
    EVE,
  );
  assert.deepEqual(
    chat.messages.map((x) => [x.from, x.name, x.text]),
    [
      [EVE.id, "Eve", "old"],
      [EVE.id, "Eve", "I am Bob"],
    ],
  );
  // Eve reusing Bob's message id neither hides nor replaces Bob's message.
  chat.receive({ type: "chat", id: "9", text: "real", ts: 5 }, BOB);
  chat.receive({ type: "chat", id: "9", text: "fake", ts: 5 }, EVE);
  assert.deepEqual(
    chat.messages.filter((x) => x.id === "9").map((x) => [x.name, x.text]),
    [
      ["Bob", "real"],
      ["Eve", "fake"],
    ],
  );
});

test("history is our own latest messages, without names or the local flags", () => {
  const chat = new Chat({ name: "민지", history: 2 });
  assert.equal(chat.hasHistory, false);
  chat.receive(m("b", "theirs", 1), BOB);
  assert.equal(chat.hasHistory, false, "nobody else's message is ours to hand over");
  const realNow = Date.now;
  let clock = 100;
  Date.now = () => clock++;
  try {
    for (const text of ["one", "two", "three"]) chat.compose(text);
  } finally {
    Date.now = realNow;
  }
  const { type, messages } = chat.history();
  assert.equal(type, "history");
  assert.deepEqual(
    messages.map((x) => x.text),
    ["two", "three"],
  );
  for (const message of messages) {
    assert.deepEqual(Object.keys(message).sort(), ["id", "text", "ts", "type"]);
  }
});

test("our own messages are trimmed, limited and marked as ours", () => {
  const chat = new Chat({ name: "민지", maxLength: 5 });
  /** @type {any[]} */
  const seen = [];
  chat.addEventListener("message", (e) => seen.push(/** @type {CustomEvent} */ (e).detail));
  const frame = chat.compose("  안녕  ");
  assert.equal(frame.text, "안녕");
  assert.equal("name" in frame, false, "the frame carries no name");
  assert.equal(seen[0].message.mine, true);
  assert.equal(seen[0].message.from, ME);
  assert.equal(seen[0].message.name, "민지");
  assert.throws(() => chat.compose("   "), RangeError);
  assert.throws(() => chat.compose("123456"), RangeError);
});

test("ids must be short strings; times finite numbers", () => {
  assert.equal(validMessage(m("1", "hi", 1), 10, BOB)?.name, "Bob");
  assert.equal(validMessage(m("x".repeat(65), "hi", 1), 10, BOB), null);
  assert.equal(validMessage(m("1", "hi", Number.NaN), 10, BOB), null);
  assert.equal(validMessage(m("", "hi", 1), 10, BOB), null);
});
