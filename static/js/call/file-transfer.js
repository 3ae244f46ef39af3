/**
 * What one file transfer is: its record, its states and why it can fail.
 * No DOM, no behaviour (files.js moves transfers along).
 * @module
 */

/**
 * @typedef {"offered"|"waiting"|"sending"|"receiving"|"done"|"declined"|"cancelled"|"failed"
 *   |"refused"} TransferState
 * `offered`: an incoming file waits for our answer; `waiting`: ours waits for
 * theirs; `sending`: accepted (streaming, or waiting its turn, or waiting for
 * the receiver to confirm); `refused`: above the receiver's size limit.
 */

/**
 * Why a transfer failed or was declined without a person deciding (the
 * `fileErrors` strings): `closed` the pair's channel went away, `unreadable`
 * our file could not be read, `too-many-bytes` / `incomplete` the bytes did
 * not match the offer (we saw it), `corrupt` (they saw it), `malformed` they
 * could not read our offer, `busy` they have too many offers waiting.
 * @typedef {""|"closed"|"unreadable"|"too-many-bytes"|"incomplete"|"corrupt"|"malformed"
 *   |"busy"} TransferError
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
 * @property {TransferError} error
 * @property {Blob|null} blob the received file, once complete
 */

/**
 * A transfer that has not moved yet.
 * @param {string} id
 * @param {string} peer
 * @param {"in"|"out"} direction
 * @param {string} name
 * @param {number} size
 * @param {string} mime
 * @returns {Omit<Transfer, "state">}
 */
export function blank(id, peer, direction, name, size, mime) {
  return { id, peer, direction, name, size, mime, done: 0, error: "", blob: null };
}

/**
 * Where a transfer is kept: the pair it runs on and its id.
 * @param {string} peer
 * @param {string} id
 */
export function key(peer, id) {
  return `${peer}\n${id}`;
}

/**
 * Whether a transfer in `state` can still move (or be cancelled).
 * @param {TransferState} state
 */
export function active(state) {
  return state === "offered" || state === "waiting" || state === "sending" || state === "receiving";
}
