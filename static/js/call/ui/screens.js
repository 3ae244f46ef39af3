/**
 * Which screen the page shows (pre-join, the call, the end) and what the
 * call's phase changes on it: the Join button's state, the reconnecting
 * banner, the refusal on the pre-join screen, the ended screen. Only
 * session-view.js uses it.
 * @module
 */

import { SELF } from "./grid.js";

/** @typedef {import("./index.js").CallUI} CallUI */
/** @typedef {import("../session.js").CallSession} CallSession */
/** @typedef {import("../protocol.js").Outcome} Outcome */

/**
 * Render a change of the session's phase.
 * @param {CallUI} ui
 * @param {CallSession} session
 * @param {string} phase
 * @param {string} previous
 * @param {Outcome|null} outcome
 */
export function renderPhase(ui, session, phase, previous, outcome) {
  const t = ui.t;
  if (phase === "joining") {
    ui.prejoin.setError(null);
    ui.prejoin.setJoinState("joining");
  } else if (phase === "waiting") {
    ui.prejoin.setJoinState("waiting");
  } else if (phase === "reconnecting") {
    ui.banner.show(t.reconnecting, { kind: "warning", sticky: true });
  } else if (phase === "call" && previous === "reconnecting") {
    ui.banner.hide("warning");
    ui.banner.show(t.reconnected);
  } else if (phase === "call") {
    enterCall(ui, session);
  } else if (phase === "refused" && outcome?.kind === "refused") {
    if (previous !== "joining") leaveCall(ui);
    ui.prejoin.setError(t[outcome.message], { retry: true });
    ui.prejoin.setJoinState("ready");
  } else if (phase === "ended" && outcome?.kind === "ended") {
    leaveCall(ui);
    ui.root.dataset.phase = "ended";
    ui.prejoin.setShown(false);
    ui.ended.show(t[outcome.message], {
      rejoin: outcome.rejoin,
      joinHere: outcome.joinHere,
      login: outcome.login ? ui.loginUrl : "",
    });
  }
}

/**
 * Switch to the call view with our own tile.
 * @param {CallUI} ui
 * @param {CallSession} session
 */
function enterCall(ui, session) {
  ui.root.dataset.phase = "call";
  ui.prejoin.setShown(false);
  ui.speakerTest.close();
  ui.ended.section.hidden = true;
  ui.incall.hidden = false;
  ui.grid.setInCall(true);
  ui.grid.add(SELF, {
    name: session.name,
    host: session.host,
    guest: ui.guest,
    state: { ...session.me },
    connection: "connected",
  });
}

/**
 * Out of the call view (back to the pre-join screen or on to the end).
 * @param {CallUI} ui
 */
function leaveCall(ui) {
  ui.settings.close();
  ui.gestures.clear();
  ui.links.close();
  ui.safety.close();
  ui.files.clear();
  ui.filePicker.setOpen(false);
  ui.grid.setInCall(false);
  ui.grid.clear();
  ui.incall.hidden = true;
  ui.root.dataset.phase = "prejoin";
  ui.prejoin.setShown(true);
}
