/**
 * File sharing, peer to peer, on each pair's dedicated ordered "file" data
 * channel (docs/protocol.md, "File transfers"). No DOM: the caller attaches
 * each pair's channel, and renders the `transfer` events.
 *
 * A transfer is offered first; bytes flow only after the receiver accepts.
 * One file at a time streams on a channel (accepted ones wait their turn),
 * with backpressure (file-sender.js). The size limit holds on both ends: the
 * sender refuses to offer a larger file, the receiver refuses an offer above
 * its own limit and stops a transfer that sends more than it announced. The
 * sender's transfer is done only once the receiver confirms every byte.
 * @module
 */

import { cleanName, frameText, parseFrame, readOffer } from "./file-frames.js";
import { SendQueue, streamBlob } from "./file-sender.js";
import { active, blank, key } from "./file-transfer.js";

/** Undecided offers one peer may have waiting with us; more are declined as "busy". */
export const MAX_WAITING_OFFERS = 10;

/** @typedef {import("./file-transfer.js").Transfer} Transfer */
/** @typedef {import("./file-transfer.js").TransferState} TransferState */
/** @typedef {import("./file-transfer.js").TransferError} TransferError */
/** @typedef {import("./file-sender.js").FileChannel} FileChannel */
/** @typedef {import("./file-frames.js").Frame} Frame */

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
    /** @type {Map<string, {transfer: Transfer, parts: Uint8Array[]}>} what each peer streams now */
    this.incoming = new Map();
    /** @type {Map<string, SendQueue<Transfer>>} our accepted files, per peer */
    this.queues = new Map();
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
    const mime = file.type.length <= 100 ? file.type : "";
    const sent = [];
    for (const peer of peers) {
      if (this.channels.get(peer)?.readyState !== "open") continue;
      const id = crypto.randomUUID();
      /** @type {Transfer} */
      const transfer = { ...blank(id, peer, "out", name, file.size, mime), state: "waiting" };
      this.transfers.set(key(peer, id), transfer);
      this.files.set(key(peer, id), file);
      this.post(peer, frameText("file-offer", id, { name, size: file.size, mime }));
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
    this.changed(transfer, "receiving");
    this.post(peer, frameText("file-accept", id));
  }

  /**
   * Decline an offered file.
   * @param {string} peer
   * @param {string} id
   */
  decline(peer, id) {
    const transfer = this.transfers.get(key(peer, id));
    if (transfer?.state !== "offered") return;
    this.changed(transfer, "declined");
    this.post(peer, frameText("file-decline", id));
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
    this.post(peer, frameText("file-cancel", id));
  }

  /**
   * @private One text frame. Frames we cannot read, or that do not fit the
   * transfer they name, change nothing (and are logged, for whoever debugs
   * the other side).
   * @param {string} peer
   * @param {string} data
   */
  receiveFrame(peer, data) {
    const frame = parseFrame(data);
    if (!frame) {
      console.warn(`meet: ignored an unreadable file frame from ${peer}`);
      return;
    }
    const transfer = this.transfers.get(key(peer, frame.id));
    const out = transfer?.direction === "out" ? transfer : null;
    const incoming = transfer?.direction === "in" ? transfer : null;
    switch (frame.type) {
      case "file-offer":
        if (!transfer) this.receiveOffer(peer, frame);
        break;
      case "file-accept":
        if (out?.state === "waiting") this.queue(out);
        break;
      case "file-decline":
        if (out?.state !== "waiting") break;
        if (frame.reason === "too-large") this.stop(out, "refused");
        else if (frame.reason)
          this.stop(out, "failed", /** @type {TransferError} */ (frame.reason));
        else this.stop(out, "declined");
        break;
      case "file-done":
        if (out?.state === "sending" && out.done === out.size) {
          this.files.delete(key(peer, out.id));
          this.changed(out, "done");
        }
        break;
      case "file-cancel":
        if (transfer && active(transfer.state)) {
          // A reason means the receiver found the bytes did not match.
          this.stop(transfer, frame.reason ? "failed" : "cancelled", frame.reason ? "corrupt" : "");
        }
        break;
      case "file-start":
        if (incoming?.state === "receiving") this.startIncoming(peer, incoming);
        break;
      case "file-end":
        if (incoming?.state !== "receiving") break;
        if (this.incoming.get(peer)?.transfer === incoming) this.finish(peer);
        else this.reject(incoming, "incomplete");
        break;
    }
    if (!transfer && frame.type !== "file-offer") {
      console.warn(`meet: ignored a ${frame.type} for no transfer of ${peer}`);
    }
  }

  /**
   * @private
   * @param {string} peer
   * @param {Frame} frame
   */
  receiveOffer(peer, frame) {
    const offer = readOffer(frame);
    if (!offer) {
      this.post(peer, frameText("file-decline", frame.id, { reason: "malformed" }));
      return;
    }
    const waiting = [...this.transfers.values()].filter(
      (t) => t.peer === peer && t.state === "offered",
    ).length;
    if (waiting >= MAX_WAITING_OFFERS) {
      this.post(peer, frameText("file-decline", frame.id, { reason: "busy" }));
      return;
    }
    const tooLarge = offer.size > this.maxBytes;
    /** @type {Transfer} */
    const transfer = {
      ...blank(frame.id, peer, "in", offer.name, offer.size, offer.mime),
      state: tooLarge ? "refused" : "offered",
    };
    this.transfers.set(key(peer, frame.id), transfer);
    if (tooLarge) this.post(peer, frameText("file-decline", frame.id, { reason: "too-large" }));
    this.changed(transfer);
  }

  /**
   * @private The sender begins a file: whatever it streamed before is over.
   * @param {string} peer
   * @param {Transfer} transfer
   */
  startIncoming(peer, transfer) {
    const previous = this.incoming.get(peer)?.transfer;
    // A repeated start must not drop the bytes counted so far.
    if (previous === transfer) return;
    if (previous) this.reject(previous, "incomplete");
    this.incoming.set(peer, { transfer, parts: [] });
  }

  /**
   * @private
   * @param {string} peer
   * @param {ArrayBuffer} chunk
   */
  receiveChunk(peer, chunk) {
    const current = this.incoming.get(peer);
    // Chunks still in flight after a cancel are dropped.
    if (current?.transfer.state !== "receiving") return;
    const { transfer, parts } = current;
    if (transfer.done + chunk.byteLength > transfer.size) {
      // More than announced: neither the limit nor the offer holds any more.
      this.reject(transfer, "too-many-bytes");
      return;
    }
    parts.push(new Uint8Array(chunk));
    this.progress(transfer, transfer.done + chunk.byteLength);
  }

  /**
   * @private `file-end`: the file is complete if every byte came.
   * @param {string} peer
   */
  finish(peer) {
    const { transfer, parts } = /** @type {{transfer: Transfer, parts: Uint8Array[]}} */ (
      this.incoming.get(peer)
    );
    if (transfer.done !== transfer.size) {
      this.reject(transfer, "incomplete");
      return;
    }
    this.incoming.delete(peer);
    transfer.blob = new Blob(/** @type {BlobPart[]} */ (parts), {
      type: transfer.mime || "application/octet-stream",
    });
    this.post(peer, frameText("file-done", transfer.id));
    this.changed(transfer, "done");
  }

  /**
   * @private An incoming transfer whose bytes do not match its offer: the
   * sender is told, and what came is dropped.
   * @param {Transfer} transfer
   * @param {"too-many-bytes"|"incomplete"} reason
   */
  reject(transfer, reason) {
    this.post(transfer.peer, frameText("file-cancel", transfer.id, { reason }));
    this.stop(transfer, "failed", reason);
  }

  /**
   * @private Accepted: stream it after the ones accepted before.
   * @param {Transfer} transfer
   */
  queue(transfer) {
    let queue = this.queues.get(transfer.peer);
    if (!queue) {
      queue = new SendQueue((next) => (next.state === "sending" ? this.stream(next) : undefined));
      this.queues.set(transfer.peer, queue);
    }
    this.changed(transfer, "sending");
    queue.push(transfer);
  }

  /**
   * @private
   * @param {Transfer} transfer
   */
  async stream(transfer) {
    const channel = this.channels.get(transfer.peer);
    const file = this.files.get(key(transfer.peer, transfer.id));
    if (!channel || !file) {
      this.stop(transfer, "failed", "closed");
      return;
    }
    const live = () =>
      transfer.state === "sending" &&
      this.channels.get(transfer.peer) === channel &&
      channel.readyState === "open";
    if (!this.post(transfer.peer, frameText("file-start", transfer.id))) return;
    const result = await streamBlob(channel, file, {
      live,
      progress: (sent) => this.progress(transfer, sent),
    });
    if (result === "unreadable" && live()) {
      this.post(transfer.peer, frameText("file-cancel", transfer.id));
      this.stop(transfer, "failed", "unreadable");
    } else if (result === "sent") {
      // Done when the receiver confirms (`file-done`).
      this.post(transfer.peer, frameText("file-end", transfer.id));
    }
  }

  /**
   * @private Send a control frame if the pair's channel is open.
   * @param {string} peer
   * @param {string} text
   * @returns {boolean}
   */
  post(peer, text) {
    const channel = this.channels.get(peer);
    if (channel?.readyState !== "open") return false;
    try {
      channel.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * @private
   * @param {Transfer} transfer
   * @param {TransferState} state
   * @param {TransferError} [error]
   */
  stop(transfer, state, error = "") {
    this.files.delete(key(transfer.peer, transfer.id));
    if (this.incoming.get(transfer.peer)?.transfer === transfer)
      this.incoming.delete(transfer.peer);
    transfer.error = error;
    this.changed(transfer, state);
  }

  /**
   * @private The pair's channel went away: nothing under way on it can finish.
   * @param {string} peer
   */
  failAll(peer) {
    for (const transfer of this.transfers.values()) {
      if (transfer.peer === peer && active(transfer.state)) this.stop(transfer, "failed", "closed");
    }
    this.queues.get(peer)?.clear();
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
   * @private Report a transfer, in its new state if one is given.
   * @param {Transfer} transfer
   * @param {TransferState} [state]
   */
  changed(transfer, state) {
    if (state) transfer.state = state;
    this.dispatchEvent(new CustomEvent("transfer", { detail: { transfer } }));
  }
}
