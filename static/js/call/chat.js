/**
 * Chat over the peers' data channels (docs/protocol.md, last section): message
 * ids, de-duplication, ordering by time, history for late joiners. No DOM,
 * no transport: the caller sends what `compose` and `history` return.
 * @module
 */

const MAX_NAME = 50;
const MAX_ID = 64;

/**
 * A chat message as stored and shown.
 * @typedef {{type: "chat", id: string, name: string, text: string, ts: number, mine?: boolean}} ChatMessage
 */

/**
 * Check one message received from a peer; returns a clean copy or null.
 * @param {any} raw
 * @param {number} maxLength
 * @returns {ChatMessage|null}
 */
export function validMessage(raw, maxLength) {
  if (!raw || typeof raw !== "object" || raw.type !== "chat") return null;
  const { id, name, text, ts } = raw;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID) return null;
  if (typeof name !== "string" || typeof text !== "string") return null;
  if (text.length === 0 || text.length > maxLength) return null;
  if (typeof ts !== "number" || !Number.isFinite(ts)) return null;
  return { type: "chat", id, name: name.slice(0, MAX_NAME), text, ts };
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
    /** @type {Set<string>} */
    this.seen = new Set();
  }

  /**
   * Make a message of ours, record it, and return the frame to broadcast.
   * @param {string} text
   * @returns {ChatMessage}
   * @throws {RangeError} when the text is empty or longer than the limit
   */
  compose(text) {
    const trimmed = text.trim();
    if (!trimmed) throw new RangeError("empty");
    if (trimmed.length > this.maxLength) throw new RangeError("too-long");
    /** @type {ChatMessage} */
    const message = {
      type: "chat",
      id: crypto.randomUUID(),
      name: this.name,
      text: trimmed,
      ts: Date.now(),
    };
    this.add({ ...message, mine: true });
    return message;
  }

  /**
   * Take a data-channel string from a peer: a `chat` or a `history` frame.
   * Unknown, malformed and duplicate messages are dropped.
   * @param {string} data
   */
  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "chat") {
      const message = validMessage(frame, this.maxLength);
      if (message) this.add(message);
    } else if (frame.type === "history" && Array.isArray(frame.messages)) {
      for (const raw of frame.messages.slice(-this.historySize)) {
        const message = validMessage(raw, this.maxLength);
        if (message) this.add(message);
      }
    }
  }

  /**
   * The `history` frame for a peer who joined after us (the latest messages).
   * @returns {{type: "history", messages: ChatMessage[]}}
   */
  history() {
    return {
      type: "history",
      messages: this.messages
        .slice(-this.historySize)
        .map(({ type, id, name, text, ts }) => ({ type, id, name, text, ts })),
    };
  }

  /**
   * @private
   * @param {ChatMessage} message
   */
  add(message) {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
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
  return a.ts < b.ts || (a.ts === b.ts && a.id < b.id);
}
