/**
 * Chat over the peers' data channels (docs/protocol.md, last section): message
 * ids, de-duplication, ordering by time, history for late joiners. No DOM,
 * no transport: the caller sends what `compose` and `history` return, and
 * hands every frame it receives to `receive` together with the peer whose
 * channel it came on.
 *
 * Who wrote a message is never read from the message: it is the peer whose
 * channel carried it, named from the receiver's own roster (which the server
 * fills). A peer's `history` frame therefore holds only the messages that
 * peer wrote itself; any name inside a frame is ignored.
 * @module
 */

const MAX_ID = 64;

/** The `from` of our own messages. */
export const ME = "self";

/**
 * A chat message as stored and shown. `from` is the author's peer id (`ME`
 * for ours), `name` their name in our roster when it arrived.
 * @typedef {{type: "chat", id: string, from: string, name: string, text: string, ts: number,
 *   mine?: boolean}} ChatMessage
 */

/**
 * The peer a frame came from, as the receiver's roster knows it.
 * @typedef {{id: string, name: string}} Sender
 */

/**
 * What travels on the wire: no name, no author (the channel says who).
 * @typedef {{type: "chat", id: string, text: string, ts: number}} ChatFrame
 */

/**
 * Check one message received from `sender`; returns a clean copy stamped
 * with the sender, or null.
 * @param {any} raw
 * @param {number} maxLength
 * @param {Sender} sender
 * @returns {ChatMessage|null}
 */
export function validMessage(raw, maxLength, sender) {
  if (!raw || typeof raw !== "object" || raw.type !== "chat") return null;
  const { id, text, ts } = raw;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID) return null;
  if (typeof text !== "string" || text.length === 0 || text.length > maxLength) return null;
  if (typeof ts !== "number" || !Number.isFinite(ts)) return null;
  return { type: "chat", id, from: sender.id, name: sender.name, text, ts };
}

/**
 * The chat log of this call.
 *
 * Events: `message` with `detail` `{message, index}`: a message not seen
 * before, and where it goes in the time-ordered list.
 */
export class Chat extends EventTarget {
  /**
   * @param {{name: string, maxLength?: number, history?: number}} options
   */
  constructor({ name, maxLength = 2000, history = 100 }) {
    super();
    this.name = name;
    this.maxLength = maxLength;
    this.historySize = history;
    /** @type {ChatMessage[]} sorted by ts, then id */
    this.messages = [];
    /** @type {Set<string>} author and id: one author cannot hide another's message */
    this.seen = new Set();
  }

  /**
   * Make a message of ours, record it, and return the frame to broadcast.
   * @param {string} text
   * @returns {ChatFrame}
   * @throws {RangeError} when the text is empty or longer than the limit
   */
  compose(text) {
    const trimmed = text.trim();
    if (!trimmed) throw new RangeError("empty");
    if (trimmed.length > this.maxLength) throw new RangeError("too-long");
    /** @type {ChatFrame} */
    const frame = { type: "chat", id: crypto.randomUUID(), text: trimmed, ts: Date.now() };
    this.add({ ...frame, from: ME, name: this.name, mine: true });
    return frame;
  }

  /**
   * Take a parsed data-channel frame from `sender`: a `chat` or a `history`
   * frame. Unknown, malformed and duplicate messages are dropped.
   * @param {any} frame
   * @param {Sender} sender the peer whose channel carried it
   */
  receive(frame, sender) {
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "chat") {
      const message = validMessage(frame, this.maxLength, sender);
      if (message) this.add(message);
    } else if (frame.type === "history" && Array.isArray(frame.messages)) {
      for (const raw of frame.messages.slice(-this.historySize)) {
        const message = validMessage(raw, this.maxLength, sender);
        if (message) this.add(message);
      }
    }
  }

  /**
   * The `history` frame for a peer who joined after us: the latest messages
   * we wrote ourselves (everyone else hands over their own).
   * @returns {{type: "history", messages: ChatFrame[]}}
   */
  history() {
    return {
      type: "history",
      messages: this.messages
        .filter((message) => message.mine)
        .slice(-this.historySize)
        .map(({ id, text, ts }) => ({ type: "chat", id, text, ts })),
    };
  }

  /** Whether we wrote anything a newcomer could be given. */
  get hasHistory() {
    return this.messages.some((message) => message.mine);
  }

  /**
   * @private
   * @param {ChatMessage} message
   */
  add(message) {
    const key = `${message.from}\n${message.id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    let index = this.messages.length;
    while (index > 0 && before(message, this.messages[index - 1])) index -= 1;
    this.messages.splice(index, 0, message);
    this.dispatchEvent(new CustomEvent("message", { detail: { message, index } }));
  }
}

/**
 * @param {ChatMessage} a
 * @param {ChatMessage} b
 */
function before(a, b) {
  return a.ts < b.ts || (a.ts === b.ts && (a.id < b.id || (a.id === b.id && a.from < b.from)));
}
