/**
 * File sharing, peer to peer, on each pair's dedicated ordered "file" data
 * channel (docs/protocol.md, "File transfers"). No DOM: the caller attaches
 * each pair's channel, and renders the `transfer` events.
 *
 * A transfer is offered first; bytes flow only after the receiver accepts.
 * One file at a time streams on a channel (the others wait their turn), in
 * 16 KiB binary chunks, paused whenever the channel's buffer is above 1 MiB
 * and resumed at `bufferedamountlow` (256 KiB), so a large file never piles
 * up in memory. The size limit holds on both ends: the sender refuses to
 * offer a larger file, the receiver refuses an offer above its own limit
 * and stops a transfer that sends more than it announced.
 * @module
 */

export const CHUNK_BYTES = 16 * 1024;
export const HIGH_WATER_BYTES = 1024 * 1024;
export const LOW_WATER_BYTES = 256 * 1024;
const MAX_NAME = 200;
const MAX_ID = 64;

/**
 * @typedef {"offered"|"waiting"|"sending"|"receiving"|"done"|"declined"|"cancelled"|"failed"
 *   |"refused"} TransferState
 * `offered`: an incoming file waits for our answer; `waiting`: ours waits for
 * theirs (or for its turn); `refused`: above the receiver's size limit.
 */

/**
 * @typedef {object} Transfer
 * @property {string} id
 * @property {string} peer the other side's peer id
 * @property {"in"|"out"} direction
 * @property {string} name shown as text only
 * @property {number} size bytes
 * @property {string} mime
 * @property {number} done bytes sent or received
 * @property {TransferState} state
 * @property {Blob|null} blob the received file, once complete
 */

/**
 * The minimal data channel this module drives.
 * @typedef {EventTarget & {send(data: string|ArrayBuffer): void, readyState: string,
 *   bufferedAmount: number, bufferedAmountLowThreshold: number, binaryType: string}} FileChannel
 */

/**
 * A file name as it may be shown and saved: no control characters, no
 * folders, at most 200 characters.
 * @param {unknown} name
 * @returns {string}
 */
export function cleanName(name) {
  if (typeof name !== "string") return "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const flat = name.replace(/[\u0000-\u001f\u007f]/g, "").replace(/[\\/]/g, "_");
  return flat.trim().slice(0, MAX_NAME);
}

/**
 * Check a `file-offer` frame against our size limit.
 * @param {any} frame
 * @param {number} maxBytes
 * @returns {{id: string, name: string, size: number, mime: string, tooLarge: boolean}|null}
 */
export function validOffer(frame, maxBytes) {
  if (frame?.type !== "file-offer") return null;
  const { id, size } = frame;
  if (typeof id !== "string" || !id || id.length > MAX_ID) return null;
  if (!Number.isSafeInteger(size) || size < 1) return null;
  const name = cleanName(frame.name) || "file";
  const mime = typeof frame.mime === "string" && frame.mime.length <= 100 ? frame.mime : "";
  return { id, name, size, mime, tooLarge: size > maxBytes };
}

/**
 * Every transfer of this call, in and out.
 *
 * Events: `transfer` with `detail.transfer`: a new transfer, a state change,
 * or progress (at most once per percent).
 */
export class FileTransfers extends EventTarget {
  /**
   * @param {{maxBytes: number}} options
   */
  constructor({ maxBytes }) {
    super();
    this.maxBytes = maxBytes;
    /** @type {Map<string, Transfer>} keyed by peer and id */
    this.transfers = new Map();
    /** @type {Map<string, Blob>} what we offered, until it is sent or dropped */
    this.files = new Map();
    /** @type {Map<string, FileChannel>} */
    this.channels = new Map();
    /** @type {Map<string, Transfer>} the incoming transfer each peer is streaming now */
    this.incoming = new Map();
    /** @type {Map<string, Uint8Array[]>} */
    this.parts = new Map();
    /** @type {Set<string>} peers whose channel is streaming one of our files */
    this.streaming = new Set();
  }

  /**
   * Use `channel` for the pair with `peer` (a new pair, or a rebuilt one:
   * whatever was under way on the old channel failed).
   * @param {string} peer
   * @param {FileChannel} channel
   */
  attach(peer, channel) {
    this.failAll(peer);
    channel.binaryType = "arraybuffer";
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    this.channels.set(peer, channel);
    channel.addEventListener("message", (event) => {
      if (this.channels.get(peer) !== channel) return;
      const { data } = /** @type {MessageEvent} */ (event);
      if (typeof data === "string") this.receiveFrame(peer, data);
      else if (data instanceof ArrayBuffer) this.receiveChunk(peer, data);
    });
    channel.addEventListener("close", () => {
      if (this.channels.get(peer) === channel) this.failAll(peer);
    });
  }

  /**
   * The person left: their transfers end.
   * @param {string} peer
   */
  detach(peer) {
    this.failAll(peer);
    this.channels.delete(peer);
  }

  /**
   * Offer a file to each of `peers` (each one accepts on their own).
   * @param {Blob & {name?: string}} file
   * @param {string[]} peers
   * @returns {Transfer[]} one per peer whose channel is open
   * @throws {RangeError} `empty` or `too-large`
   */
  send(file, peers) {
    if (file.size === 0) throw new RangeError("empty");
    if (file.size > this.maxBytes) throw new RangeError("too-large");
    const name = cleanName(file.name) || "file";
    const sent = [];
    for (const peer of peers) {
      const channel = this.channels.get(peer);
      if (channel?.readyState !== "open") continue;
      const id = crypto.randomUUID();
      /** @type {Transfer} */
      const transfer = {
        id,
        peer,
        direction: "out",
        name,
        size: file.size,
        mime: file.type || "",
        done: 0,
        state: "waiting",
        blob: null,
      };
      this.transfers.set(key(peer, id), transfer);
      this.files.set(key(peer, id), file);
      channel.send(
        JSON.stringify({ type: "file-offer", id, name, size: file.size, mime: transfer.mime }),
      );
      this.changed(transfer);
      sent.push(transfer);
    }
    return sent;
  }

  /**
   * Accept an offered file: the sender starts streaming.
   * @param {string} peer
   * @param {string} id
   */
  accept(peer, id) {
    const transfer = this.transfers.get(key(peer, id));
    if (transfer?.state !== "offered") return;
    this.setState(transfer, "receiving");
    this.channels.get(peer)?.send(JSON.stringify({ type: "file-accept", id }));
  }

  /**
   * Decline an offered file.
   * @param {string} peer
   * @param {string} id
   */
  decline(peer, id) {
    const transfer = this.transfers.get(key(peer, id));
    if (transfer?.state !== "offered") return;
    this.setState(transfer, "declined");
    this.channels.get(peer)?.send(JSON.stringify({ type: "file-decline", id }));
  }

  /**
   * Stop a transfer, ours or theirs, before or while it streams.
   * @param {string} peer
   * @param {string} id
   */
  cancel(peer, id) {
    const transfer = this.transfers.get(key(peer, id));
    if (!transfer || !active(transfer.state)) return;
    this.stop(transfer, "cancelled");
    this.channels.get(peer)?.send(JSON.stringify({ type: "file-cancel", id }));
  }

  /**
   * @private
   * @param {string} peer
   * @param {string} data
   */
  receiveFrame(peer, data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    const id = typeof frame?.id === "string" ? frame.id : "";
    const transfer = this.transfers.get(key(peer, id));
    switch (frame?.type) {
      case "file-offer":
        this.receiveOffer(peer, frame);
        break;
      case "file-accept":
        if (transfer?.direction === "out" && transfer.state === "waiting") {
          transfer.state = "sending";
          this.changed(transfer);
          this.pump(peer);
        }
        break;
      case "file-decline":
        if (transfer?.direction === "out" && transfer.state === "waiting") {
          this.stop(transfer, frame.reason === "too-large" ? "refused" : "declined");
        }
        break;
      case "file-cancel":
        if (transfer && active(transfer.state)) this.stop(transfer, "cancelled");
        break;
      case "file-start":
        if (transfer?.direction === "in" && transfer.state === "receiving") {
          this.incoming.set(peer, transfer);
          this.parts.set(key(peer, id), []);
        }
        break;
      case "file-end":
        if (transfer?.direction === "in" && transfer.state === "receiving") this.finish(transfer);
        break;
      default:
        break;
    }
  }

  /**
   * @private
   * @param {string} peer
   * @param {any} frame
   */
  receiveOffer(peer, frame) {
    const offer = validOffer(frame, this.maxBytes);
    if (!offer || this.transfers.has(key(peer, offer.id))) return;
    /** @type {Transfer} */
    const transfer = {
      id: offer.id,
      peer,
      direction: "in",
      name: offer.name,
      size: offer.size,
      mime: offer.mime,
      done: 0,
      state: offer.tooLarge ? "refused" : "offered",
      blob: null,
    };
    this.transfers.set(key(peer, offer.id), transfer);
    if (offer.tooLarge) {
      this.channels
        .get(peer)
        ?.send(JSON.stringify({ type: "file-decline", id: offer.id, reason: "too-large" }));
    }
    this.changed(transfer);
  }

  /**
   * @private
   * @param {string} peer
   * @param {ArrayBuffer} chunk
   */
  receiveChunk(peer, chunk) {
    const transfer = this.incoming.get(peer);
    // Chunks still in flight after a cancel are dropped.
    if (transfer?.state !== "receiving") return;
    if (transfer.done + chunk.byteLength > transfer.size) {
      // More than announced: neither the limit nor the offer holds any more.
      this.cancel(peer, transfer.id);
      this.setState(transfer, "failed");
      return;
    }
    this.parts.get(key(peer, transfer.id))?.push(new Uint8Array(chunk));
    this.progress(transfer, transfer.done + chunk.byteLength);
  }

  /**
   * @private
   * @param {Transfer} transfer
   */
  finish(transfer) {
    const id = key(transfer.peer, transfer.id);
    const parts = this.parts.get(id) || [];
    this.parts.delete(id);
    this.incoming.delete(transfer.peer);
    if (transfer.done !== transfer.size) {
      this.setState(transfer, "failed");
      return;
    }
    transfer.blob = new Blob(/** @type {BlobPart[]} */ (parts), {
      type: transfer.mime || "application/octet-stream",
    });
    this.setState(transfer, "done");
  }

  /**
   * @private Stream the accepted files to `peer`, one after the other.
   * @param {string} peer
   */
  async pump(peer) {
    if (this.streaming.has(peer)) return;
    this.streaming.add(peer);
    try {
      for (;;) {
        const next = [...this.transfers.values()].find(
          (t) => t.peer === peer && t.direction === "out" && t.state === "sending",
        );
        if (!next) break;
        await this.stream(next);
      }
    } finally {
      this.streaming.delete(peer);
    }
  }

  /**
   * @private
   * @param {Transfer} transfer
   */
  async stream(transfer) {
    const channel = this.channels.get(transfer.peer);
    const file = this.files.get(key(transfer.peer, transfer.id));
    if (!channel || !file) {
      this.setState(transfer, "failed");
      return;
    }
    const live = () =>
      transfer.state === "sending" &&
      this.channels.get(transfer.peer) === channel &&
      channel.readyState === "open";
    channel.send(JSON.stringify({ type: "file-start", id: transfer.id }));
    let offset = 0;
    while (offset < file.size && live()) {
      if (channel.bufferedAmount > HIGH_WATER_BYTES) {
        await drained(channel);
        continue;
      }
      const chunk = await file.slice(offset, offset + CHUNK_BYTES).arrayBuffer();
      if (!live()) return;
      channel.send(chunk);
      offset += chunk.byteLength;
      this.progress(transfer, offset);
    }
    if (!live()) return;
    channel.send(JSON.stringify({ type: "file-end", id: transfer.id }));
    this.files.delete(key(transfer.peer, transfer.id));
    this.setState(transfer, "done");
  }

  /**
   * @private
   * @param {Transfer} transfer
   * @param {TransferState} state
   */
  stop(transfer, state) {
    const id = key(transfer.peer, transfer.id);
    this.files.delete(id);
    this.parts.delete(id);
    if (this.incoming.get(transfer.peer) === transfer) this.incoming.delete(transfer.peer);
    this.setState(transfer, state);
  }

  /**
   * @private The pair's channel went away: nothing under way on it can finish.
   * @param {string} peer
   */
  failAll(peer) {
    for (const transfer of this.transfers.values()) {
      if (transfer.peer === peer && active(transfer.state)) this.stop(transfer, "failed");
    }
  }

  /**
   * @private
   * @param {Transfer} transfer
   * @param {number} done
   */
  progress(transfer, done) {
    const before = Math.floor((transfer.done * 100) / transfer.size);
    transfer.done = done;
    if (Math.floor((done * 100) / transfer.size) !== before) this.changed(transfer);
  }

  /**
   * @private
   * @param {Transfer} transfer
   * @param {TransferState} state
   */
  setState(transfer, state) {
    transfer.state = state;
    this.changed(transfer);
  }

  /**
   * @private
   * @param {Transfer} transfer
   */
  changed(transfer) {
    this.dispatchEvent(new CustomEvent("transfer", { detail: { transfer } }));
  }
}

/**
 * @param {string} peer
 * @param {string} id
 */
function key(peer, id) {
  return `${peer}\n${id}`;
}

/** @param {TransferState} state */
function active(state) {
  return state === "offered" || state === "waiting" || state === "sending" || state === "receiving";
}

/**
 * Wait until the channel's buffer drained below its low-water mark (or it closed).
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
 * A size for people: "820 KB", "1.5 MB" (decimal units, as file managers show).
 * @param {number} size bytes
 * @param {string} [lang]
 * @returns {string}
 */
export function formatBytes(size, lang) {
  const units = /** @type {const} */ (["byte", "kilobyte", "megabyte", "gigabyte"]);
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(lang || undefined, {
    style: "unit",
    unit: units[unit],
    unitDisplay: "short",
    maximumFractionDigits: unit > 1 ? 1 : 0,
  }).format(value);
}
