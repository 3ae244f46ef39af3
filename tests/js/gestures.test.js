import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Gestures,
  HandQueue,
  REACTIONS,
  SELF,
  validHand,
  validReaction,
} from "../../static/js/call/gestures.js";

const HOST = { id: "host-id", name: "Host", host: true };
const BOB = { id: "bob-id", name: "Bob", host: false };

function make() {
  /** @type {object[]} */
  const broadcasts = [];
  /** @type {[string, object][]} */
  const direct = [];
  const gestures = new Gestures({
    broadcast: (frame) => broadcasts.push(frame),
    sendTo: (id, frame) => direct.push([id, frame]) > 0,
  });
  /** @type {{type: string, detail: any}[]} */
  const events = [];
  for (const type of ["hands", "reaction", "lowered"]) {
    gestures.addEventListener(type, (e) =>
      events.push({ type, detail: /** @type {CustomEvent} */ (e).detail }),
    );
  }
  const queue = () => gestures.queue.ordered().map((hand) => hand.id);
  return { gestures, broadcasts, direct, events, queue };
}

test("hands queue in the order they went up, whoever's frame arrives first", () => {
  const queue = new HandQueue();
  assert.equal(queue.set("b", true, 200, 1000), true);
  assert.equal(queue.set("a", true, 100, 1000), true);
  assert.equal(queue.set("a", true, 100, 1000), false, "the same frame again changes nothing");
  // A hand cannot have gone up after it arrived: a clock ahead does not jump the queue's end.
  queue.set("c", true, 5000, 300);
  assert.deepEqual(
    queue.ordered().map((h) => h.id),
    ["a", "b", "c"],
  );
  assert.equal(queue.set("a", false, 0), true);
  assert.equal(queue.set("a", false, 0), false);
  assert.deepEqual(
    queue.ordered().map((h) => h.id),
    ["b", "c"],
  );
});

test("frames are checked: booleans, finite times, reactions from the fixed set", () => {
  assert.deepEqual(validHand({ type: "hand", raised: true, at: 5 }), { raised: true, at: 5 });
  assert.deepEqual(validHand({ type: "hand", raised: false }), { raised: false, at: 0 });
  assert.equal(validHand({ type: "hand", raised: "yes", at: 5 }), null);
  assert.equal(validHand({ type: "hand", raised: true, at: Number.NaN }), null);
  assert.equal(validHand({ type: "hand", raised: true }), null);
  assert.equal(validReaction({ type: "reaction", emoji: REACTIONS[0] }), REACTIONS[0]);
  assert.equal(validReaction({ type: "reaction", emoji: "<img src=x>" }), null);
  assert.equal(validReaction({ type: "reaction", emoji: "👍".repeat(50) }), null);
});

test("our hand goes to everyone, and to each channel that opens", () => {
  const { gestures, broadcasts, direct, queue } = make();
  gestures.setHand(true);
  assert.equal(gestures.raised, true);
  assert.deepEqual(queue(), [SELF]);
  assert.deepEqual(broadcasts, [{ type: "hand", raised: true, at: gestures.raisedAt }]);
  gestures.greet("newcomer");
  assert.deepEqual(direct, [["newcomer", broadcasts[0]]]);
  gestures.setHand(false);
  assert.deepEqual(broadcasts.at(-1), { type: "hand", raised: false });
  gestures.greet("rebuilt");
  assert.deepEqual(direct.at(-1), ["rebuilt", { type: "hand", raised: false }]);
});

test("a peer's frame moves only that peer's hand; leaving takes it away", () => {
  const { gestures, queue, events } = make();
  gestures.receive({ type: "hand", raised: true, at: 10, id: HOST.id }, BOB);
  gestures.receive({ type: "hand", raised: true, at: 5 }, HOST);
  assert.deepEqual(queue(), [HOST.id, BOB.id]);
  gestures.forget(HOST.id);
  assert.deepEqual(queue(), [BOB.id]);
  assert.deepEqual(events.at(-1)?.detail.queue, [{ id: BOB.id, at: 10 }]);
});

test("only a host can lower our hand", () => {
  const { gestures, events, broadcasts } = make();
  gestures.setHand(true);
  gestures.receive({ type: "lower-hand", host: true }, BOB);
  assert.equal(gestures.raised, true, "Bob is no host, whatever the frame says");
  gestures.receive({ type: "lower-hand" }, HOST);
  assert.equal(gestures.raised, false);
  assert.deepEqual(broadcasts.at(-1), { type: "hand", raised: false });
  assert.deepEqual(events.at(-1), { type: "lowered", detail: { by: "Host" } });
});

test("lowering someone else's hand asks them; reactions show on the sender", () => {
  const { gestures, direct, events, broadcasts } = make();
  gestures.lowerHandOf(BOB.id);
  assert.deepEqual(direct, [[BOB.id, { type: "lower-hand" }]]);
  assert.equal(gestures.react("💩"), false);
  assert.equal(gestures.react("👏"), true);
  assert.deepEqual(broadcasts, [{ type: "reaction", emoji: "👏" }]);
  gestures.receive({ type: "reaction", emoji: "🎉" }, BOB);
  gestures.receive({ type: "reaction", emoji: "nope" }, BOB);
  assert.deepEqual(
    events.filter((e) => e.type === "reaction").map((e) => e.detail),
    [
      { id: SELF, emoji: "👏" },
      { id: BOB.id, emoji: "🎉" },
    ],
  );
});
