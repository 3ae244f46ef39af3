/**
 * Reactions and raised hands, peer to peer on the chat channel
 * (docs/protocol.md, "Peer to peer"). No DOM, no transport: the caller
 * passes in how to reach the peers and hands over every `hand`,
 * `reaction` and `lower-hand` frame with the peer whose channel carried it.
 *
 * Each person is the only source of their own hand: a peer's `hand` frame
 * changes only that peer's place in the queue. A host asks someone to lower
 * their hand with `lower-hand`; the person's own browser checks, in its own
 * roster (filled by the server), that the asker is a host, lowers the hand
 * and tells everyone.
 *
 * The queue is ordered by the time each hand went up, on the raiser's clock
 * (never later than when it arrived here), so everyone sees the same order.
 * @module
 */

/** The reactions one can send: a small fixed set. */
export const REACTIONS = Object.freeze(["👍", "👏", "😂", "❤️", "🎉", "😮"]);

/** How long a reaction stays on its tile (ms). */
export const REACTION_MS = 4000;

/** The queue key of our own hand. */
export const SELF = "self";

/**
 * A person whose channel carried a frame, from the receiver's roster.
 * @typedef {{id: string, name: string, host: boolean}} FrameSender
 */

/**
 * One raised hand.
 * @typedef {{id: string, at: number}} RaisedHand
 */

/**
 * Check a `hand` frame.
 * @param {any} frame
 * @returns {{raised: boolean, at: number}|null}
 */
export function validHand(frame) {
  if (frame?.type !== "hand" || typeof frame.raised !== "boolean") return null;
  if (!frame.raised) return { raised: false, at: 0 };
  if (typeof frame.at !== "number" || !Number.isFinite(frame.at) || frame.at < 0) return null;
  return { raised: true, at: frame.at };
}

/**
 * The emoji of a `reaction` frame, if it is one of `REACTIONS`.
 * @param {any} frame
 * @returns {string|null}
 */
export function validReaction(frame) {
  if (frame?.type !== "reaction" || typeof frame.emoji !== "string") return null;
  return REACTIONS.includes(frame.emoji) ? frame.emoji : null;
}

/**
 * Raised hands in the order they went up.
 */
export class HandQueue {
  constructor() {
    /** @type {Map<string, number>} */
    this.hands = new Map();
  }

  /**
   * Raise or lower someone's hand.
   * @param {string} id
   * @param {boolean} raised
   * @param {number} at when it went up (the raiser's clock)
   * @param {number} [now] our clock: a hand cannot have gone up later than this
   * @returns {boolean} whether the queue changed
   */
  set(id, raised, at, now = Date.now()) {
    if (!raised) return this.hands.delete(id);
    const when = Math.min(at, now);
    if (this.hands.get(id) === when) return false;
    this.hands.set(id, when);
    return true;
  }

  /**
   * @param {string} id
   * @returns {boolean}
   */
  has(id) {
    return this.hands.has(id);
  }

  /** @returns {RaisedHand[]} first raised first (ties: by id) */
  ordered() {
    return [...this.hands]
      .map(([id, at]) => ({ id, at }))
      .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/**
 * Our hand, everyone's hands, and reactions.
 *
 * Events (CustomEvent):
 * - `hands`: the queue changed; `detail.queue` is `RaisedHand[]`, in order.
 * - `reaction`: `{id, emoji}`; `id` is a peer id or `SELF`.
 * - `lowered`: a host lowered our hand; `{by}` is their name.
 */
export class Gestures extends EventTarget {
  /**
   * @param {{broadcast: (frame: object) => number,
   *   sendTo: (id: string, frame: object) => boolean}} transport
   */
  constructor({ broadcast, sendTo }) {
    super();
    this.broadcast = broadcast;
    this.sendTo = sendTo;
    this.queue = new HandQueue();
    /** @type {number|null} when our hand went up */
    this.raisedAt = null;
  }

  /** Whether our hand is up. */
  get raised() {
    return this.raisedAt !== null;
  }

  /**
   * Raise or lower our hand and tell everyone.
   * @param {boolean} up
   */
  setHand(up) {
    if (up === this.raised) return;
    this.raisedAt = up ? Date.now() : null;
    this.queue.set(SELF, up, this.raisedAt || 0);
    this.broadcast(this.handFrame());
    this.changed();
  }

  /**
   * Send a reaction to everyone (and show it on our own tile).
   * @param {string} emoji one of `REACTIONS`
   * @returns {boolean} false for anything else
   */
  react(emoji) {
    if (!REACTIONS.includes(emoji)) return false;
    this.broadcast({ type: "reaction", emoji });
    this.emit("reaction", { id: SELF, emoji });
    return true;
  }

  /**
   * Ask someone to lower their hand (hosts; the other side checks).
   * @param {string} id
   */
  lowerHandOf(id) {
    if (id === SELF) this.setHand(false);
    else this.sendTo(id, { type: "lower-hand" });
  }

  /**
   * A channel to `id` opened (a newcomer, or a rebuilt pair): tell them
   * where our hand is, so the queue survives reconnects.
   * @param {string} id
   */
  greet(id) {
    this.sendTo(id, this.handFrame());
  }

  /**
   * Someone left the call: their hand goes with them.
   * @param {string} id
   */
  forget(id) {
    if (this.queue.set(id, false, 0)) this.changed();
  }

  /**
   * A `hand`, `reaction` or `lower-hand` frame from `sender`.
   * @param {any} frame
   * @param {FrameSender} sender
   */
  receive(frame, sender) {
    switch (frame?.type) {
      case "hand": {
        const hand = validHand(frame);
        if (hand && this.queue.set(sender.id, hand.raised, hand.at)) this.changed();
        break;
      }
      case "reaction": {
        const emoji = validReaction(frame);
        if (emoji) this.emit("reaction", { id: sender.id, emoji });
        break;
      }
      case "lower-hand":
        // Only a host may, and the host flag is our roster's, not the frame's.
        if (sender.host && this.raised) {
          this.setHand(false);
          this.emit("lowered", { by: sender.name });
        }
        break;
      default:
        break;
    }
  }

  /** @private */
  handFrame() {
    return this.raisedAt === null
      ? { type: "hand", raised: false }
      : { type: "hand", raised: true, at: this.raisedAt };
  }

  /** @private */
  changed() {
    this.emit("hands", { queue: this.queue.ordered() });
  }

  /**
   * @private
   * @param {string} type
   * @param {object} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
