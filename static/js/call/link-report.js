/**
 * The link summary operators see (docs/protocol.md, `links`): every
 * `report` seconds (from `welcome`) while in the call, one line per pair
 * with the path it took, its round trip and its packet loss, from the
 * figures links.js measured. The server keeps it for Django admin and never
 * relays it. No DOM.
 * @module
 */

import { ClientMessage, ServerMessage } from "./protocol.js";

/** @typedef {import("./session.js").CallSession} CallSession */
/** @typedef {import("./session.js").Participant} Participant */

/** The interval when the server says nothing (seconds). */
export const DEFAULT_REPORT_SECONDS = 10;
/** The server accepts at most this many pairs (a call has at most three). */
const MAX_LINKS = 8;

/**
 * @typedef {{peer: string, path: string|null, transport: string|null,
 *   rtt: number|null, loss: number|null}} LinkLine
 */

/**
 * One line per measured pair, in roster order.
 * @param {Iterable<Participant>} participants
 * @returns {LinkLine[]}
 */
export function linkLines(participants) {
  /** @type {LinkLine[]} */
  const lines = [];
  for (const participant of participants) {
    const figures = /** @type {any} */ (participant.link)?.figures;
    if (!figures) continue;
    lines.push({
      peer: participant.id,
      path: figures.path ?? null,
      transport: figures.transport ?? null,
      rtt: finite(figures.rttMs, 60_000),
      loss: finite(figures.lossPct, 100),
    });
    if (lines.length === MAX_LINKS) break;
  }
  return lines;
}

/**
 * A figure the server accepts (0–`top`, one decimal), else null.
 * @param {unknown} value
 * @param {number} top
 */
function finite(value, top) {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  return Math.round(Math.min(Math.max(value, 0), top) * 10) / 10;
}

/** Sends the summary on a timer while the call is live. */
export class LinkReporter {
  /**
   * @param {object} options
   * @param {CallSession} options.session
   * @param {{addEventListener(type: string, listener: (event: Event) => void): void}} options.signaling
   *   where `welcome` arrives (its `report` sets the interval)
   */
  constructor({ session, signaling }) {
    this.session = session;
    this.seconds = DEFAULT_REPORT_SECONDS;
    /** @type {ReturnType<typeof setInterval>|undefined} */
    this.timer = undefined;
    signaling.addEventListener("message", (event) => {
      const message = /** @type {CustomEvent<{type: string, report?: unknown}>} */ (event).detail;
      if (message.type !== ServerMessage.WELCOME) return;
      const seconds = message.report;
      if (typeof seconds === "number" && seconds > 0) this.seconds = seconds;
    });
    session.addEventListener("phase", () => {
      if (session.phase === "call") this.start();
      else if (session.phase !== "reconnecting") this.stop();
    });
  }

  /** @private */
  start() {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.send(), this.seconds * 1000);
  }

  /** @private */
  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One summary now (while connected to the server; otherwise skipped). */
  send() {
    if (this.session.phase !== "call") return;
    const links = linkLines(this.session.roster.values());
    this.session.signaling.send({ type: ClientMessage.LINKS, links });
  }
}
