// The sampler over a stand-in session: one getStats() per connected pair per
// round, recorded Chromium reports, grades on the roster, the speaker.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { LinkMonitor, SELF_SPEAKER } from "../../static/js/call/links.js";

/** @param {string} name @returns {any[][]} */
const fixture = (name) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"));

/** A connection that hands out recorded reports, one per getStats() call. */
class StatsPc {
  /** @param {any[][]} reports */
  constructor(reports) {
    this.reports = reports;
    this.calls = 0;
    this.connectionState = "connected";
  }
  async getStats() {
    const report = this.reports[Math.min(this.calls, this.reports.length - 1)];
    this.calls += 1;
    return new Map(report.map((s) => [s.id, s]));
  }
}

/**
 * @param {Record<string, any[][]>} people
 */
function fakeSession(people) {
  const session = Object.assign(new EventTarget(), {
    inCall: false,
    me: { muted: false, camera: true, screen: false, hand: false },
    roster: new Map(),
  });
  for (const [id, reports] of Object.entries(people)) {
    session.roster.set(id, {
      id,
      state: { muted: false, camera: true, screen: false, hand: false },
      link: null,
      pair: { pc: new StatsPc(reports) },
    });
  }
  return session;
}

test("each round samples every connected pair once; the grade comes with the second report", async () => {
  const session = fakeSession({
    a: fixture("stats-host-self-muted"),
    b: fixture("stats-relay-udp"),
  });
  const closed = session.roster.get("b");
  const monitor = new LinkMonitor({ session: /** @type {any} */ (session), now: () => 0 });
  /** @type {string[]} */
  const links = [];
  monitor.addEventListener("link", (event) =>
    links.push(/** @type {CustomEvent} */ (event).detail.participant.id),
  );
  monitor.running = true;
  await monitor.sample();
  const a = session.roster.get("a");
  assert.equal(a.link.grade, null);
  assert.equal(a.link.figures.path, "host");
  closed.pair.pc.connectionState = "closed";
  await monitor.sample();
  assert.equal(a.pair.pc.calls, 2);
  assert.equal(a.link.grade, "good");
  assert.equal(a.link.figures.path, "host");
  // A connection that is not connected is not asked, and its link is cleared once.
  assert.equal(closed.pair.pc.calls, 1);
  assert.equal(closed.link, null);
  await monitor.sample();
  // a: every round; b: measured once, then cleared once.
  assert.equal(links.filter((id) => id === "a").length, 3);
  assert.equal(links.filter((id) => id === "b").length, 2);
});

test("the person we hear is the speaker; muted people and silence are not", async () => {
  // a beeps (we hear a), b is muted: we hear silence from b.
  const session = fakeSession({
    a: fixture("stats-host-self-muted"),
    b: fixture("stats-host-peer-muted"),
  });
  session.me.muted = true;
  let time = 0;
  const monitor = new LinkMonitor({ session: /** @type {any} */ (session), now: () => time });
  /** @type {(string|null)[]} */
  const speakers = [];
  monitor.addEventListener("speaker", (event) =>
    speakers.push(/** @type {CustomEvent} */ (event).detail.id),
  );
  monitor.running = true;
  await monitor.sample();
  time = 1000;
  await monitor.sample();
  assert.deepEqual(speakers, ["a"]);
  // a mutes: a's tile is no longer highlighted once the hold is over.
  session.roster.get("a").state.muted = true;
  time = 2000;
  await monitor.sample();
  assert.deepEqual(speakers, ["a", null]);
});

test("our own microphone makes our tile the speaker; the call's end stops everything", async () => {
  const session = fakeSession({ b: fixture("stats-host-peer-muted") });
  session.roster.get("b").state.muted = true;
  const monitor = new LinkMonitor({ session: /** @type {any} */ (session), interval: 5 });
  /** @type {(string|null)[]} */
  const speakers = [];
  monitor.addEventListener("speaker", (event) =>
    speakers.push(/** @type {CustomEvent} */ (event).detail.id),
  );
  session.inCall = true;
  session.dispatchEvent(new Event("phase"));
  const pc = session.roster.get("b").pair.pc;
  while (pc.calls < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(speakers, [SELF_SPEAKER]);
  session.inCall = false;
  session.dispatchEvent(new Event("phase"));
  assert.deepEqual(speakers, [SELF_SPEAKER, null]);
  assert.equal(monitor.running, false);
  // A round still under way when the call ended reports nothing.
  await monitor.sample();
  assert.deepEqual(speakers, [SELF_SPEAKER, null]);
});
