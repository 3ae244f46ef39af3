/**
 * Streaming one file's bytes onto a data channel with backpressure: 16 KiB
 * binary messages, paused whenever the channel's buffer is above 1 MiB and
 * resumed at `bufferedamountlow` (256 KiB), the file read in 256 KiB slices,
 * so a large file never piles up in memory; and the queue that streams a
 * pair's accepted files one after the other. No DOM.
 * @module
 */

export const CHUNK_BYTES = 16 * 1024;
export const HIGH_WATER_BYTES = 1024 * 1024;
export const LOW_WATER_BYTES = 256 * 1024;
const READ_BYTES = 256 * 1024;

/**
 * The minimal data channel file sharing drives.
 * @typedef {EventTarget & {send(data: string|ArrayBuffer): void, readyState: string,
 *   bufferedAmount: number, bufferedAmountLowThreshold: number, binaryType: string}} FileChannel
 */

/**
 * How a stream ended: every byte queued on the channel, stopped (the
 * transfer was cancelled or the channel went away), or the file could not
 * be read.
 * @typedef {"sent"|"stopped"|"unreadable"} StreamResult
 */

/**
 * Send `blob` on `channel` as binary messages.
 * @param {FileChannel} channel its `bufferedAmountLowThreshold` is set here
 * @param {Blob} blob
 * @param {{live: () => boolean, progress: (sent: number) => void}} hooks `live`
 *   says whether to go on; `progress` hears the bytes queued so far
 * @returns {Promise<StreamResult>}
 */
export async function streamBlob(channel, blob, { live, progress }) {
  channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
  let offset = 0;
  while (offset < blob.size) {
    let block;
    try {
      block = await blob.slice(offset, offset + READ_BYTES).arrayBuffer();
    } catch {
      // The file changed or vanished on disk after it was picked.
      return "unreadable";
    }
    for (let at = 0; at < block.byteLength; at += CHUNK_BYTES) {
      while (live() && channel.bufferedAmount > HIGH_WATER_BYTES) await drained(channel);
      if (!live()) return "stopped";
      try {
        channel.send(block.slice(at, at + CHUNK_BYTES));
      } catch {
        // Closing under us; its close event fails the transfer.
        return "stopped";
      }
      progress(offset + Math.min(at + CHUNK_BYTES, block.byteLength));
    }
    offset += block.byteLength;
  }
  return live() ? "sent" : "stopped";
}

/**
 * Wait until the channel's buffer drained to its low-water mark (or it closed).
 * @param {FileChannel} channel
 * @returns {Promise<void>}
 */
function drained(channel) {
  return new Promise((resolve) => {
    const done = () => {
      channel.removeEventListener("bufferedamountlow", done);
      channel.removeEventListener("close", done);
      resolve();
    };
    channel.addEventListener("bufferedamountlow", done);
    channel.addEventListener("close", done);
  });
}

/**
 * Items handled one at a time, in the order they were pushed.
 * @template T
 */
export class SendQueue {
  /**
   * @param {(item: T) => Promise<void>|undefined} handle
   */
  constructor(handle) {
    this.handle = handle;
    /** @type {T[]} */
    this.items = [];
    this.busy = false;
  }

  /** @param {T} item */
  push(item) {
    this.items.push(item);
    this.run();
  }

  /** Forget what has not started. */
  clear() {
    this.items.length = 0;
  }

  /** @private */
  async run() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.items.shift(); next !== undefined; next = this.items.shift()) {
        await this.handle(next);
      }
    } finally {
      this.busy = false;
    }
  }
}
