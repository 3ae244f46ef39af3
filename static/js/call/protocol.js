/**
 * The signaling protocol's vocabulary (docs/protocol.md), shared by the socket
 * (signaling.js) and the call session (session.js): message types, close
 * codes, and what each close code means for the person. No DOM.
 * @module
 */

/** `type` of the frames the server sends. */
export const ServerMessage = Object.freeze({
  WELCOME: "welcome",
  PEER_JOINED: "peer-joined",
  PEER_LEFT: "peer-left",
  PEER_STATE: "peer-state",
  PEER_RESUMED: "peer-resumed",
  RESUME_TOKEN: "resume-token",
  OFFER: "offer",
  ANSWER: "answer",
  CANDIDATE: "candidate",
  ICE_SERVERS: "ice-servers",
  ACTING_HOST: "acting-host",
  MUTE_REQUEST: "mute-request",
  LOBBY: "lobby",
  KNOCK: "knock",
  KNOCK_GONE: "knock-gone",
  LOBBY_STATE: "lobby-state",
  PONG: "pong",
  ERROR: "error",
});

/** `type` of the frames the client sends. */
export const ClientMessage = Object.freeze({
  JOIN: "join",
  OFFER: "offer",
  ANSWER: "answer",
  CANDIDATE: "candidate",
  STATE: "state",
  PING: "ping",
  ICE_SERVERS: "ice-servers",
  KICK: "kick",
  MUTE: "mute",
  END: "end",
  LEAVE: "leave",
  LINKS: "links",
  LOBBY: "lobby",
  ADMIT: "admit",
  DENY: "deny",
});

/** WebSocket close codes ("Close codes" in docs/protocol.md). */
export const CloseCode = Object.freeze({
  LEFT: 1000,
  GOING_AWAY: 1001,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  SERVER_ERROR: 1011,
  RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  KICKED: 4000,
  REPLACED: 4001,
  TOO_MANY_SOCKETS: 4002,
  ORIGIN_REFUSED: 4003,
  PROTOCOL: 4400,
  NOT_SIGNED_IN: 4401,
  NOT_MEMBER: 4403,
  NO_ROOM: 4404,
  DENIED: 4405,
  TIMEOUT: 4408,
  FULL: 4409,
  ENDED: 4410,
  GUEST_REMOVED: 4411,
  RESUME_REFUSED: 4412,
  TOO_LARGE: 4413,
  LOCKED: 4423,
  FLOOD: 4429,
});

/** `reason` of a `peer-left` frame. */
export const LeaveReason = Object.freeze({
  LEFT: "left",
  TIMEOUT: "timeout",
  KICKED: "kicked",
  REMOVED: "removed",
  REPLACED: "replaced",
});

/**
 * Close codes after which reconnecting can help: the server went away,
 * restarted or timed an idle socket out, or refused a resume token (the
 * next attempt joins afresh). Everything else is final.
 */
/** @type {Set<number>} */
const RECONNECT = new Set([
  CloseCode.GOING_AWAY,
  CloseCode.NO_STATUS,
  CloseCode.ABNORMAL,
  CloseCode.SERVER_ERROR,
  CloseCode.RESTART,
  CloseCode.TRY_AGAIN_LATER,
  CloseCode.BAD_GATEWAY,
  CloseCode.TIMEOUT,
  CloseCode.RESUME_REFUSED,
]);

/**
 * Whether the client should reconnect after the socket closed with `code`.
 * @param {number} code
 * @returns {boolean}
 */
export function shouldReconnect(code) {
  return RECONNECT.has(code);
}

/**
 * What a final close means for the person.
 *
 * - `left`: they left (1000); nothing to explain.
 * - `refused`: the join was turned down for now (full, locked); back to the
 *   pre-join screen with a "Try again".
 * - `login`: signed out before joining: to the sign-in page.
 * - `ended`: the call is over on this page; `message` says why and the
 *   actions say what they can do.
 *
 * @typedef {{kind: "left"}
 *   | {kind: "refused", message: string}
 *   | {kind: "login"}
 *   | {kind: "ended", message: string, rejoin: boolean, joinHere: boolean, login: boolean}} Outcome
 */

/** Final codes with their own message (a key of the page's strings). */
/** @type {Map<number, string>} */
const MESSAGES = new Map([
  [CloseCode.KICKED, "closedKicked"],
  [CloseCode.REPLACED, "closedReplaced"],
  [CloseCode.ORIGIN_REFUSED, "closedOrigin"],
  [CloseCode.PROTOCOL, "closedProtocol"],
  [CloseCode.NOT_SIGNED_IN, "closedLoggedOut"],
  [CloseCode.NOT_MEMBER, "closedNotMember"],
  [CloseCode.NO_ROOM, "closedNoRoom"],
  [CloseCode.DENIED, "closedDenied"],
  [CloseCode.ENDED, "closedEnded"],
  [CloseCode.GUEST_REMOVED, "closedGuestRemoved"],
  [CloseCode.TOO_LARGE, "closedTooLarge"],
  [CloseCode.FLOOD, "closedFlooding"],
]);

/** Codes after which a reload may well work (a bug or an overload on our side). */
/** @type {Set<number>} */
const RELOADABLE = new Set([CloseCode.PROTOCOL, CloseCode.TOO_LARGE, CloseCode.FLOOD]);

/**
 * The outcome of a final close with `code`, seen from `phase` (whether the
 * person had joined changes what 4401 means).
 * @param {number} code
 * @param {{joined: boolean}} where
 * @returns {Outcome}
 */
export function closeOutcome(code, { joined }) {
  if (code === CloseCode.LEFT) return { kind: "left" };
  if (code === CloseCode.FULL) return { kind: "refused", message: "closedFull" };
  if (code === CloseCode.LOCKED) return { kind: "refused", message: "closedLocked" };
  if (code === CloseCode.TOO_MANY_SOCKETS) {
    return { kind: "refused", message: "closedTooManySockets" };
  }
  if (code === CloseCode.NOT_SIGNED_IN && !joined) return { kind: "login" };
  const message = MESSAGES.get(code);
  return {
    kind: "ended",
    message: message || "closedUnknown",
    rejoin: !message || RELOADABLE.has(code),
    joinHere: code === CloseCode.REPLACED,
    login: code === CloseCode.NOT_SIGNED_IN,
  };
}
