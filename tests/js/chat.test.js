import assert from "node:assert/strict";
import { test } from "node:test";
import { Chat, validMessage } from "../../static/js/call/chat.js";

/** @param {string} id @param {any} text @param {number} ts */
const m = (id, text, ts) => ({ type: "chat", id, name: "B", text, ts });

test("duplicates, malformed and oversized messages are dropped; order is by time", () => {
  const chat = new Chat({ name: "A", maxLength: 10, history: 2 });
  /** @type {string[]} */
  const seen = [];
  chat.addEventListener("message", (e) =>
    seen.push(/** @type {CustomEvent} */ (e).detail.message.text),
  );
  chat.receive(JSON.stringify(m("1", "second", 20)));
  chat.receive(JSON.stringify(m("1", "second", 20)));
  chat.receive(JSON.stringify(m("2", "first", 10)));
  chat.receive(JSON.stringify(m("3", "x".repeat(11), 30)));
  chat.receive(JSON.stringify(m("4", 5, 1)));
  chat.receive("not json");
  chat.receive(
    JSON.stringify({ type: "history", messages: [m("2", "first", 10), m("5", "third", 40)] }),
  );
  assert.deepEqual(seen, ["second", "first", "third"]);
  assert.deepEqual(
    chat.messages.map((x) => x.text),
    ["first", "second", "third"],
  );
  // History is the latest `history` messages, without the local `mine` flag.
  assert.deepEqual(
    chat.history().messages.map((x) => x.id),
    ["1", "5"],
  );
});

test("our own messages are trimmed, limited and marked as ours", () => {
  const chat = new Chat({ name: "민지", maxLength: 5 });
  /** @type {any[]} */
  const seen = [];
  chat.addEventListener("message", (e) => seen.push(/** @type {CustomEvent} */ (e).detail));
  const message = chat.compose("  안녕  ");
  assert.equal(message.text, "안녕");
  assert.equal(message.name, "민지");
  assert.equal(seen[0].message.mine, true);
  assert.equal("mine" in chat.history().messages[0], false);
  assert.throws(() => chat.compose("   "), RangeError);
  assert.throws(() => chat.compose("123456"), RangeError);
});

test("a received name is cut to 50 characters; ids must be short strings", () => {
  assert.equal(validMessage({ ...m("1", "hi", 1), name: "n".repeat(80) }, 10)?.name.length, 50);
  assert.equal(validMessage(m("x".repeat(65), "hi", 1), 10), null);
  assert.equal(validMessage({ ...m("1", "hi", Number.NaN) }, 10), null);
});
