// The roster (roster.js): each entry and its pair kept in step, frames named
// from the roster, TURN errors that matter, over a fake mesh.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isRelayProblem, Roster, serverState } from "../../static/js/call/roster.js";

class FakePair extends EventTarget {
  /** @param {any} info */
  constructor(info) {
    super();
    this.info = info;
    this.closed = false;
    this.resyncs = 0;
    /** @type {any} the offering side's file channel, made in its constructor */
    this.fileChannel = info.offer ? { label: "file", first: true } : null;
    /** @type {string[]} */
    this.sent = [];
  }
  close() {
    this.closed = true;
  }
  resync() {
    this.resyncs += 1;
  }
  /** @param {string} data */
  sendData(data) {
    this.sent.push(data);
    return true;
  }
  /** @param {string} type @param {any} [detail] */
  report(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function makeRoster({ relayOnly = false } = {}) {
  /** @type {{type: string, detail: any}[]} */
  const events = [];
  /** @type {any[]} */
  const received = [];
  const hands = new Set();
  let budgets = 0;
  const mesh = {
    relayOnly,
    /** @param {any} info */
    connect: (info) => new FakePair(info),
    applyBudget: () => {
      budgets += 1;
    },
    /** @type {[string, any][]} */
    views: [],
    /** @param {string} id @param {any} view */
    setView: (id, view) => mesh.views.push([id, view]),
    /** @param {string} _id */
    forget: (_id) => {},
  };
  const chat = {
    hasHistory: true,
    history: () => ({ type: "history", messages: [] }),
    /** @param {any} frame @param {any} sender */
    receive: (frame, sender) => received.push({ to: "chat", frame, sender }),
  };
  const gestures = {
    queue: { has: (/** @type {string} */ id) => hands.has(id) },
    /** @param {string} _id */
    forget: (_id) => {},
    /** @param {string} id */
    greet: (id) => received.push({ to: "greet", id }),
    /** @param {any} frame @param {any} sender */
    receive: (frame, sender) => received.push({ to: "gestures", frame, sender }),
  };
  /** @type {any[]} */
  const files = [];
  const transfers = {
    /** @param {string} id @param {any} channel */
    attach: (id, channel) => files.push(["attach", id, channel]),
    /** @param {string} id */
    detach: (id) => files.push(["detach", id]),
  };
  const roster = new Roster({
    mesh: /** @type {any} */ (mesh),
    chat: /** @type {any} */ (chat),
    gestures: /** @type {any} */ (gestures),
    files: /** @type {any} */ (transfers),
    emit: (type, detail) => events.push({ type, detail }),
  });
  return { roster, events, received, hands, files, mesh, budgets: () => budgets };
}

/** @param {string} id @param {object} [extra] */
const info = (id, extra = {}) => ({
  peer: id,
  name: `Person ${id}`,
  host: false,
  state: { muted: true },
  offer: false,
  polite: true,
  ...extra,
});

/** @param {any} participant */
const pairOf = (participant) => /** @type {FakePair} */ (/** @type {unknown} */ (participant.pair));

test("a newcomer gets a pair and the state the server knows, the hand from the queue", () => {
  const { roster, hands } = makeRoster();
  hands.add("bbb");
  const bbb = roster.add(info("bbb"), true);
  assert.equal(roster.get("bbb"), bbb);
  assert.deepEqual(bbb.state, { muted: true, camera: true, screen: false, hand: true });
  assert.equal(bbb.connection, "connecting");
  assert.deepEqual([...roster.pairs()], [bbb.pair]);
});

test("a pair's reports reach its entry only while it is on the roster", () => {
  const { roster, events } = makeRoster();
  const bbb = roster.add(info("bbb"), false);
  const pair = pairOf(bbb);
  pair.report("state", { state: "connected" });
  assert.equal(bbb.connection, "connected");
  assert.deepEqual(events.at(-1), {
    type: "participant-changed",
    detail: { participant: bbb, change: "connection" },
  });
  roster.remove("bbb", "left", true);
  assert.equal(pair.closed, true);
  assert.deepEqual(events.at(-1), {
    type: "participant-left",
    detail: { participant: bbb, reason: "left", announce: true },
  });
  const count = events.length;
  pair.report("state", { state: "failed" });
  assert.equal(events.length, count, "a closed pair's late report changes nothing");
});

test("frames are named from the roster, never from the frame; junk is dropped", () => {
  const { roster, received } = makeRoster();
  const bbb = roster.add(info("bbb", { host: true }), true);
  const pair = pairOf(bbb);
  pair.report("channel-open");
  assert.deepEqual(pair.sent, [JSON.stringify({ type: "history", messages: [] })]);
  const sender = { id: "bbb", name: "Person bbb", host: true };
  pair.report("channel-message", { data: JSON.stringify({ type: "chat", name: "forged" }) });
  pair.report("channel-message", { data: JSON.stringify({ type: "hand", up: true }) });
  pair.report("channel-message", { data: "not json" });
  pair.report("channel-message", { data: "42" });
  assert.deepEqual(received, [
    { to: "greet", id: "bbb" },
    { to: "chat", frame: { type: "chat", name: "forged" }, sender },
    { to: "gestures", frame: { type: "hand", up: true }, sender },
  ]);
});

test("a view frame reaches the mesh as that pair's view; a bad one is dropped", () => {
  const { roster, mesh, received } = makeRoster();
  const bbb = roster.add(info("bbb"), true);
  const pair = pairOf(bbb);
  pair.report("channel-message", { data: JSON.stringify({ type: "view", h: 270, lossy: true }) });
  pair.report("channel-message", { data: JSON.stringify({ type: "view", h: "big" }) });
  assert.deepEqual(mesh.views, [["bbb", { height: 270, lossy: true }]]);
  assert.deepEqual(received, []);
});

test("a resumed welcome brings the others up to date and re-syncs their pairs", () => {
  const { roster } = makeRoster();
  const bbb = roster.add(info("bbb"), false);
  const added = roster.welcome([info("bbb", { state: { camera: false } }), info("ccc")], true);
  assert.deepEqual(
    added.map((p) => [p.id, p.joinedAfterUs]),
    [["ccc", true]],
  );
  assert.equal(bbb.state.camera, false);
  assert.equal(pairOf(bbb).resyncs, 1);
  assert.equal(pairOf(roster.get("ccc")).resyncs, 0, "a new pair has nothing to redo");
});

test("each file channel of a pair goes to file sharing, and away with the person", () => {
  const { roster, files } = makeRoster();
  const bbb = roster.add(info("bbb", { offer: true }), false);
  const pair = pairOf(bbb);
  const rebuilt = { label: "file" };
  pair.report("file-channel", { channel: rebuilt });
  roster.remove("bbb", "left", true);
  pair.report("file-channel", { channel: { label: "file", late: true } });
  assert.deepEqual(files, [
    ["attach", "bbb", pair.fileChannel],
    ["attach", "bbb", rebuilt],
    ["detach", "bbb"],
  ]);
});

test("TURN errors matter when credentials are refused or the relay is the only path", () => {
  const turn = "turn:turn.example:3478?transport=udp";
  assert.equal(isRelayProblem({ errorCode: 401, url: turn }, false), true);
  assert.equal(isRelayProblem({ errorCode: 701, url: turn }, false), false);
  assert.equal(isRelayProblem({ errorCode: 701, url: turn }, true), true);
  assert.equal(isRelayProblem({ errorCode: 701, url: "stun:stun.example:3478" }, true), false);
});

test("the server gets our media state without the hand", () => {
  const state = { muted: true, camera: false, screen: true, hand: true };
  assert.deepEqual(serverState(state), { muted: true, camera: false, screen: true });
});
