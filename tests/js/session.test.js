// The call session: phases, the roster, the server's messages and close codes,
// driven through a fake socket, with real Mesh and Peer objects over fake
// peer connections.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { FakeSignaling, FakeTrack, installFakes, settle } from "./fakes.js";

installFakes();
const { CallSession } = await import("../../static/js/call/session.js");
const { Chat } = await import("../../static/js/call/chat.js");
const { LIVE_BACKOFF_MAX_MS, BACKOFF_MAX_MS } = await import("../../static/js/call/signaling.js");

/** @type {InstanceType<typeof CallSession>[]} */
const sessions = [];

afterEach(() => {
  for (const session of sessions.splice(0)) session.leave();
});

const ICE = { servers: [], policy: "all", expires: 0 };

/** @param {string} id @param {object} [extra] */
const peerInfo = (id, extra = {}) => ({
  peer: id,
  name: `Person ${id}`,
  host: false,
  state: { muted: false, camera: true, screen: false, hand: false },
  offer: true,
  polite: true,
  ...extra,
});

function makeSession() {
  const signaling = new FakeSignaling();
  const session = new CallSession({
    signaling: /** @type {any} */ (signaling),
    chat: new Chat({ name: "민지" }),
    tracks: () =>
      /** @type {any} */ ({ audio: new FakeTrack("audio"), video: new FakeTrack("video") }),
    budget: { videoKbps: 2500, perPeerMaxKbps: 1500 },
    name: "민지",
    host: true,
  });
  sessions.push(session);
  /** @type {{type: string, detail: any}[]} */
  const events = [];
  for (const type of [
    "phase",
    "participant-joined",
    "participant-left",
    "participant-changed",
    "self",
    "relay-problem",
  ]) {
    session.addEventListener(type, (event) => {
      events.push({ type, detail: /** @type {CustomEvent} */ (event).detail });
    });
  }
  const phases = () => events.filter((e) => e.type === "phase").map((e) => e.detail.phase);
  return { session, signaling, events, phases };
}

/** Join and get a welcome listing `peers`. */
function inCall(peers = [peerInfo("bbb")], self = "aaa", resume = "") {
  const setup = makeSession();
  setup.session.start();
  setup.session.join("민지");
  setup.signaling.open();
  setup.signaling.deliver({
    type: "welcome",
    peer: self,
    name: "민지",
    host: true,
    peers,
    ice: ICE,
    resume,
    resumed: false,
  });
  return setup;
}

test("Join before the socket is open sends one join with the state once it opens", () => {
  const { session, signaling, phases } = makeSession();
  session.start();
  session.setState({ muted: true });
  session.join("Minji K");
  assert.equal(signaling.sent.length, 0);
  signaling.open();
  assert.deepEqual(signaling.sent, [
    {
      type: "join",
      name: "Minji K",
      // The hand is not the server's business: it goes peer to peer.
      state: { muted: true, camera: true, screen: false },
    },
  ]);
  assert.deepEqual(phases(), ["joining"]);
});

test("welcome puts everyone on the roster with a pair that offers to them", async () => {
  const { session, signaling, events, phases } = inCall([peerInfo("bbb"), peerInfo("ccc")]);
  assert.deepEqual(phases(), ["joining", "call"]);
  assert.deepEqual([...session.roster.keys()], ["bbb", "ccc"]);
  assert.equal(signaling.maxDelay, LIVE_BACKOFF_MAX_MS);
  // Every pair exists before the page hears of the call (offers first).
  const order = events.map((e) => e.type).filter((t) => t !== "self");
  assert.deepEqual(order, ["phase", "phase", "participant-joined", "participant-joined"]);
  assert.ok(events.filter((e) => e.type === "participant-joined").every((e) => !e.detail.announce));
  await settle();
  const offers = signaling.sentOf("offer");
  assert.deepEqual(offers.map((m) => m.to).sort(), ["bbb", "ccc"]);
});

test("a newcomer is announced, waits for its offer, and the answer goes back to it", async () => {
  const { session, signaling, events } = inCall([]);
  signaling.deliver({
    type: "peer-joined",
    peer: peerInfo("zzz", { offer: false, polite: false }),
  });
  const joined = events.find((e) => e.type === "participant-joined");
  assert.equal(joined?.detail.announce, true);
  assert.equal(joined?.detail.participant.joinedAfterUs, true);
  await settle();
  assert.equal(signaling.sentOf("offer").length, 0);
  signaling.deliver({
    type: "offer",
    from: "zzz",
    sdp: "v=0\r\no=- 77 1 IN IP4 127.0.0.1\r\nm=audio\r\nm=video\r\n",
  });
  await settle();
  assert.deepEqual(
    signaling.sentOf("answer").map((m) => m.to),
    ["zzz"],
  );
  assert.equal(session.roster.get("zzz")?.pair.pc.signalingState, "stable");
});

test("peer-state, peer-left and frames from people not in the call", async () => {
  const { session, signaling, events } = inCall();
  const pair = /** @type {any} */ (session.roster.get("bbb")?.pair);
  signaling.deliver({ type: "peer-state", peer: "bbb", state: { muted: true } });
  assert.deepEqual(session.roster.get("bbb")?.state, {
    muted: true,
    camera: true,
    screen: false,
    hand: false,
  });
  signaling.deliver({ type: "peer-left", peer: "bbb", reason: "kicked" });
  assert.equal(session.roster.size, 0);
  assert.equal(pair.closed, true);
  const left = events.find((e) => e.type === "participant-left");
  assert.deepEqual([left?.detail.reason, left?.detail.announce], ["kicked", true]);
  // A late candidate from someone who left reaches nobody.
  signaling.deliver({ type: "candidate", from: "bbb", candidate: null });
  signaling.deliver({ type: "peer-state", peer: "bbb", state: { muted: false } });
  assert.equal(session.roster.size, 0);
});

test("a full or locked room refuses the join; Join again restarts the socket", () => {
  const { session, signaling, events, phases } = makeSession();
  session.start();
  session.join("민지");
  signaling.open();
  signaling.closeFinally(4409);
  assert.deepEqual(phases(), ["joining", "refused"]);
  const refused = events.filter((e) => e.type === "phase").at(-1);
  assert.deepEqual(refused?.detail.outcome, { kind: "refused", message: "closedFull" });
  assert.equal(signaling.maxDelay, BACKOFF_MAX_MS);
  session.join("민지");
  assert.equal(signaling.restarts, 1);
  assert.deepEqual(phases(), ["joining", "refused", "joining"]);
});

test("final close codes end the call with what the person can do", () => {
  const cases = [
    [
      4000,
      { kind: "ended", message: "closedKicked", rejoin: false, joinHere: false, login: false },
    ],
    [
      4001,
      { kind: "ended", message: "closedReplaced", rejoin: false, joinHere: true, login: false },
    ],
    [
      4401,
      { kind: "ended", message: "closedLoggedOut", rejoin: false, joinHere: false, login: true },
    ],
    [4410, { kind: "ended", message: "closedEnded", rejoin: false, joinHere: false, login: false }],
    [
      4429,
      { kind: "ended", message: "closedFlooding", rejoin: true, joinHere: false, login: false },
    ],
    [
      4999,
      { kind: "ended", message: "closedUnknown", rejoin: true, joinHere: false, login: false },
    ],
  ];
  for (const [code, outcome] of cases) {
    const { session, signaling, events } = inCall();
    const pair = /** @type {any} */ (session.roster.get("bbb")?.pair);
    signaling.closeFinally(/** @type {number} */ (code));
    const last = events.filter((e) => e.type === "phase").at(-1);
    assert.equal(last?.detail.phase, "ended", String(code));
    assert.deepEqual(last?.detail.outcome, outcome, String(code));
    assert.equal(session.roster.size, 0);
    assert.equal(pair.closed, true);
  }
});

test("signed out before joining goes to the sign-in page", () => {
  const { session, signaling, events } = makeSession();
  session.start();
  signaling.closeFinally(4401);
  assert.deepEqual(events.at(-1)?.detail.outcome, { kind: "login" });
});

test("losing the server keeps every pair; a welcome under a new id starts them over", async () => {
  const { session, signaling, phases, events } = inCall([peerInfo("bbb")]);
  await settle();
  const pair = /** @type {any} */ (session.roster.get("bbb")?.pair);
  signaling.drop(1006);
  assert.equal(session.phase, "reconnecting");
  assert.equal(pair.closed, false, "media keeps flowing while the server is away");
  session.setState({ muted: true });
  assert.equal(signaling.sentOf("state").length, 0, "nothing is sent without a socket");
  signaling.open();
  assert.deepEqual(signaling.sentOf("join").at(-1)?.state, {
    muted: true,
    camera: true,
    screen: false,
  });
  // The server gave us a new peer id: the others know us under a new name.
  signaling.deliver({
    type: "welcome",
    peer: "aa2",
    name: "민지",
    host: true,
    peers: [peerInfo("bb2")],
    ice: ICE,
  });
  assert.deepEqual(phases(), ["joining", "call", "reconnecting", "call"]);
  assert.equal(pair.closed, true);
  assert.deepEqual([...session.roster.keys()], ["bb2"]);
  const left = events.find((e) => e.type === "participant-left");
  assert.equal(left?.detail.announce, false);
});

test("a resumed welcome keeps the pairs, drops who left, adds who came, re-offers", async () => {
  const everyone = [peerInfo("bbb"), peerInfo("ccc"), peerInfo("eee")];
  const { session, signaling, events } = inCall(everyone, "aaa", "tok-1");
  await settle();
  const pair = /** @type {any} */ (session.roster.get("bbb")?.pair);
  // bbb answered; ccc's answer never came (the server went away).
  const bbbOffer = signaling.sentOf("offer").find((m) => m.to === "bbb");
  await pair.handle({ type: "answer", from: "bbb", sdp: pair.pc.localDescription.sdp, gen: 1 });
  assert.equal(pair.pc.signalingState, "stable");
  assert.equal(bbbOffer?.gen, 1);
  const ccc = /** @type {any} */ (session.roster.get("ccc")?.pair);
  assert.equal(ccc.pc.signalingState, "have-local-offer");
  signaling.deliver({ type: "resume-token", token: "tok-2" });
  signaling.drop(1012);
  session.setState({ muted: true });
  signaling.open();
  const join = signaling.sentOf("join").at(-1);
  assert.equal(join?.resume, "tok-2");
  assert.equal(join?.state.muted, true);
  const offersBefore = signaling.sentOf("offer").length;
  // ccc is still there, ddd came while we were away, eee left.
  signaling.deliver({
    type: "welcome",
    peer: "aaa",
    name: "민지",
    host: true,
    peers: [
      peerInfo("bbb", { offer: false, state: { hand: true } }),
      peerInfo("ccc", { offer: false }),
      peerInfo("ddd", { offer: false }),
    ],
    ice: ICE,
    resume: "tok-3",
    resumed: true,
  });
  await settle();
  assert.equal(session.phase, "call");
  assert.equal(session.roster.get("bbb")?.pair, pair, "the same pair, the same connection");
  assert.equal(session.roster.get("ccc")?.pair, ccc);
  assert.deepEqual([...session.roster.keys()], ["bbb", "ccc", "ddd"]);
  assert.equal(session.resumeToken, "tok-3");
  // Only the unanswered offer is made again (an ICE restart), with a new gen.
  const again = signaling.sentOf("offer").slice(offersBefore);
  assert.deepEqual(
    again.map((m) => [m.to, m.gen]),
    [["ccc", 2]],
  );
  assert.equal(ccc.pc.iceRestarts, 1);
  assert.equal(pair.closed, false);
  // The newcomer offers to us (it saw us come back): we wait for it.
  assert.equal(session.roster.get("ddd")?.pair.pc.signalingState, "stable");
  assert.equal(signaling.sentOf("state").length, 0, "the join carried our state");
  const left = events.filter((e) => e.type === "participant-left");
  assert.deepEqual(
    left.map((e) => [e.detail.participant.id, e.detail.announce]),
    [["eee", true]],
  );
});

test("a refused resume token is forgotten: the next join is a fresh one", () => {
  const { session, signaling } = inCall([peerInfo("bbb")], "aaa", "tok-1");
  signaling.drop(1006);
  signaling.open();
  assert.equal(signaling.sentOf("join").at(-1)?.resume, "tok-1");
  signaling.drop(4412);
  assert.equal(session.phase, "reconnecting");
  signaling.open();
  assert.equal(signaling.sentOf("join").at(-1)?.resume, undefined);
});

test("peer-resumed updates their state and re-offers an unanswered offer", async () => {
  const { session, signaling } = inCall([peerInfo("bbb")]);
  await settle();
  const pair = /** @type {any} */ (session.roster.get("bbb")?.pair);
  const offers = signaling.sentOf("offer").length;
  signaling.deliver({
    type: "peer-resumed",
    peer: "bbb",
    state: { muted: true, camera: true, screen: false, hand: true },
  });
  await settle();
  assert.equal(session.roster.get("bbb")?.state.muted, true);
  assert.deepEqual(
    signaling
      .sentOf("offer")
      .slice(offers)
      .map((m) => m.gen),
    [2],
  );
  // The answer to the first offer arrives late: dropped; the second one applies.
  await pair.handle({ type: "answer", from: "bbb", sdp: "v=0\r\no=- 9 1 IN IP4 x\r\n", gen: 1 });
  assert.equal(pair.pc.signalingState, "have-local-offer");
  await pair.handle({ type: "answer", from: "bbb", sdp: "v=0\r\no=- 9 2 IN IP4 x\r\n", gen: 2 });
  assert.equal(pair.pc.signalingState, "stable");
});

test("the network coming back retries at once", () => {
  const { session, signaling } = inCall();
  signaling.drop();
  session.retryNow();
  assert.equal(signaling.retries, 1);
});

test("state changes in the call are sent; Retry rebuilds only that pair", async () => {
  const { session, signaling } = inCall([peerInfo("bbb"), peerInfo("ccc")]);
  session.setState({ camera: false });
  assert.deepEqual(signaling.sentOf("state").at(-1), { type: "state", state: { camera: false } });
  await settle();
  const other = session.roster.get("ccc")?.pair.pc;
  const before = session.roster.get("bbb")?.pair.pc;
  const offers = signaling.sentOf("offer").length;
  session.retryPair("bbb");
  await settle();
  assert.notEqual(session.roster.get("bbb")?.pair.pc, before);
  assert.equal(session.roster.get("ccc")?.pair.pc, other);
  assert.deepEqual(
    signaling
      .sentOf("offer")
      .slice(offers)
      .map((m) => m.to),
    ["bbb"],
  );
});

test("chat goes to every open channel; a later joiner gets the history", async () => {
  const { session, signaling } = inCall([peerInfo("bbb")]);
  assert.equal(session.sendChat("  "), -1);
  assert.equal(session.sendChat("안녕하세요"), 0, "no channel is open yet");
  const early = /** @type {any} */ (session.roster.get("bbb")?.pair.channel);
  early.open();
  assert.equal(session.sendChat("두 번째"), 1);
  // History is only for people who came after us; everyone hears where our hand is.
  assert.deepEqual(
    early.sent.map((/** @type {string} */ s) => JSON.parse(s).type),
    ["hand", "chat"],
  );
  signaling.deliver({ type: "peer-joined", peer: peerInfo("zzz", { offer: false }) });
  signaling.deliver({
    type: "offer",
    from: "zzz",
    sdp: "v=0\r\no=- 9 1 IN IP4 127.0.0.1\r\nm=audio\r\nm=video\r\n",
  });
  await settle();
  const late = /** @type {any} */ (session.roster.get("zzz")?.pair.channel);
  late.open();
  const history = JSON.parse(late.sent[0]);
  assert.equal(history.type, "history");
  // Sent in the same millisecond they are ordered by id: compare as a set.
  assert.deepEqual(history.messages.map((/** @type {any} */ m) => m.text).sort(), [
    "두 번째",
    "안녕하세요",
  ]);
  // What a peer sends arrives in the chat, under the name our roster has for them.
  late.receive(JSON.stringify({ type: "chat", id: "x1", name: "Boss", text: "hi", ts: 1 }));
  assert.equal(session.chat.messages.length, 3);
  assert.deepEqual(
    [session.chat.messages[0].from, session.chat.messages[0].name],
    ["zzz", "Person zzz"],
  );
});

test("history holds only our own messages, and a peer's history is theirs", async () => {
  const { session, signaling } = inCall([peerInfo("bbb")]);
  const early = /** @type {any} */ (session.roster.get("bbb")?.pair.channel);
  early.open();
  early.receive(JSON.stringify({ type: "chat", id: "b1", text: "from bbb", ts: 5 }));
  session.sendChat("mine");
  signaling.deliver({ type: "peer-joined", peer: peerInfo("zzz", { offer: false }) });
  signaling.deliver({
    type: "offer",
    from: "zzz",
    sdp: "v=0\r\no=- 9 1 IN IP4 127.0.0.1\r\nm=audio\r\nm=video\r\n",
  });
  await settle();
  const late = /** @type {any} */ (session.roster.get("zzz")?.pair.channel);
  late.open();
  const history = JSON.parse(late.sent[0]);
  // bbb hands over its own messages; we vouch only for ours, and name nobody.
  assert.deepEqual(history.messages, [
    { type: "chat", id: session.chat.messages[1].id, text: "mine", ts: history.messages[0].ts },
  ]);
  // zzz's history claims to be from bbb: it is shown as zzz's.
  late.receive(
    JSON.stringify({
      type: "history",
      messages: [{ type: "chat", id: "b1", name: "Person bbb", from: "bbb", text: "fake", ts: 6 }],
    }),
  );
  const fake = session.chat.messages.find((m) => m.text === "fake");
  assert.deepEqual([fake?.from, fake?.name], ["zzz", "Person zzz"]);
  // Reusing bbb's message id did not hide or replace bbb's message.
  assert.equal(
    session.chat.messages.find((m) => m.id === "b1" && m.from === "bbb")?.text,
    "from bbb",
  );
});

test("a TURN server refusing our credentials is reported", async () => {
  const { session, events } = inCall();
  const pc = /** @type {any} */ (session.roster.get("bbb")?.pair.pc);
  pc.dispatchEvent(
    Object.assign(new Event("icecandidateerror"), { errorCode: 701, url: "stun:x", errorText: "" }),
  );
  assert.equal(events.filter((e) => e.type === "relay-problem").length, 0);
  const warn = console.warn;
  console.warn = () => {};
  try {
    pc.dispatchEvent(
      Object.assign(new Event("icecandidateerror"), {
        errorCode: 401,
        url: "turn:x",
        errorText: "",
      }),
    );
  } finally {
    console.warn = warn;
  }
  assert.equal(events.filter((e) => e.type === "relay-problem").length, 1);
});
