import assert from "node:assert/strict";
import { test } from "node:test";
import { CloseCode, closeOutcome, shouldReconnect } from "../../static/js/call/protocol.js";

test("the server going away, restarting or timing an idle socket out reconnects", () => {
  for (const code of [1001, 1005, 1006, 1011, 1012, 1013, 1014, 4408]) {
    assert.equal(shouldReconnect(code), true, String(code));
  }
  for (const code of [
    1000, 4000, 4001, 4002, 4003, 4400, 4401, 4403, 4404, 4409, 4410, 4413, 4423, 4429,
  ]) {
    assert.equal(shouldReconnect(code), false, String(code));
  }
});

test("full, locked and too many sockets let the person try again; leaving needs no message", () => {
  assert.deepEqual(closeOutcome(CloseCode.FULL, { joined: true }), {
    kind: "refused",
    message: "closedFull",
  });
  assert.deepEqual(closeOutcome(CloseCode.LOCKED, { joined: false }), {
    kind: "refused",
    message: "closedLocked",
  });
  assert.deepEqual(closeOutcome(CloseCode.TOO_MANY_SOCKETS, { joined: false }), {
    kind: "refused",
    message: "closedTooManySockets",
  });
  assert.deepEqual(closeOutcome(CloseCode.LEFT, { joined: true }), { kind: "left" });
});

test("signed out: to the sign-in page before joining, a sign-in link in the call", () => {
  assert.deepEqual(closeOutcome(4401, { joined: false }), { kind: "login" });
  assert.deepEqual(closeOutcome(4401, { joined: true }), {
    kind: "ended",
    message: "closedLoggedOut",
    rejoin: false,
    joinHere: false,
    login: true,
  });
});

test("each final code has its message; our own errors offer a reload", () => {
  const messages = {
    4000: "closedKicked",
    4001: "closedReplaced",
    4003: "closedOrigin",
    4400: "closedProtocol",
    4403: "closedNotMember",
    4404: "closedNoRoom",
    4410: "closedEnded",
    4411: "closedGuestRemoved",
    4413: "closedTooLarge",
    4429: "closedFlooding",
    4999: "closedUnknown",
  };
  for (const [code, message] of Object.entries(messages)) {
    const outcome = closeOutcome(Number(code), { joined: true });
    assert.equal(outcome.kind, "ended");
    if (outcome.kind !== "ended") continue;
    assert.equal(outcome.message, message);
    assert.equal(outcome.rejoin, ["4400", "4413", "4429", "4999"].includes(code), code);
    assert.equal(outcome.joinHere, code === "4001");
  }
});
