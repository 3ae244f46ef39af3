/**
 * How the page follows the call session: each of the session's events, and
 * what it changes on the page (phase changes: screens.js). Only the facade
 * (index.js) uses it.
 * @module
 */

import { format } from "../format.js";
import { SELF } from "../gestures.js";
import { KNOCK_NOTES } from "./chime.js";
import { renderPhase } from "./screens.js";

/** @typedef {import("./index.js").CallUI} CallUI */
/** @typedef {import("../session.js").CallSession} CallSession */
/** @typedef {import("../session.js").Participant} Participant */

/**
 * @param {CallUI} ui
 * @param {CallSession} session
 */
export function followSession(ui, session) {
  const t = ui.t;
  /**
   * @param {string} type
   * @param {(detail: any) => void} render
   */
  const on = (type, render) =>
    session.addEventListener(type, (event) => render(/** @type {CustomEvent} */ (event).detail));
  on("phase", ({ phase, previous, outcome }) => renderPhase(ui, session, phase, previous, outcome));
  const renderRecipients = () =>
    ui.filePicker.setPeople([...session.roster.values()].map(({ id, name }) => ({ id, name })));
  on("participant-joined", ({ participant, announce }) => {
    renderRecipients();
    ui.grid.add(participant.id, participant);
    if (participant.stream) ui.grid.setStream(participant.id, participant.stream);
    if (announce) ui.banner.show(format(t.peerJoined, { name: participant.name }));
  });
  on("participant-left", ({ participant, reason, announce }) => {
    renderRecipients();
    ui.grid.remove(participant.id);
    if (!announce || reason === "replaced") return;
    const key = reason === "kicked" ? "peerKicked" : "peerLeft";
    ui.banner.show(format(t[key], { name: participant.name }));
  });
  on("participant-changed", ({ participant, change }) => {
    /** @type {Participant} */
    const p = participant;
    if (change === "stream" && p.stream) ui.grid.setStream(p.id, p.stream);
    else ui.grid.update(p.id, { state: p.state, connection: p.connection });
    if (change === "connection" && p.connection === "connected") ui.banner.hide("error");
  });
  on("self", ({ state }) => ui.renderSelf(state));
  followLobby(ui, session);
  on("relay-problem", () => ui.banner.show(t.relayUnreachable, { kind: "error", sticky: true }));
  const gestures = session.gestures;
  const renderHands = () =>
    ui.gestures.renderHands(gestures.queue.ordered(), {
      nameOf: (id) => (id === SELF ? session.name : session.roster.get(id)?.name || ""),
      isSelf: (id) => id === SELF,
      host: session.hosts.canHost,
    });
  gestures.addEventListener("hands", renderHands);
  session.hosts.addEventListener("change", (event) => {
    renderHosts(ui, session, /** @type {CustomEvent} */ (event).detail);
    renderHands();
  });
  session.hosts.addEventListener("refused", () => ui.banner.show(t.hostsOnly, { kind: "error" }));
  on("phase", ({ phase }) => {
    if (phase === "call") renderHands();
  });
  gestures.addEventListener("reaction", (event) => {
    const { id, emoji } = /** @type {CustomEvent} */ (event).detail;
    ui.gestures.showReaction(id, emoji);
  });
  gestures.addEventListener("lowered", (event) => {
    const { by } = /** @type {CustomEvent} */ (event).detail;
    ui.banner.show(format(t.handLoweredBy, { name: by }));
  });
  session.files?.addEventListener("transfer", (event) => {
    const { transfer } = /** @type {CustomEvent} */ (event).detail;
    ui.files.render(transfer, session.roster.get(transfer.peer)?.name);
  });
  // A chat message arrived (or was sent): into the log, and counted if unseen.
  session.chat.addEventListener("message", (event) => {
    const { message, index } = /** @type {CustomEvent} */ (event).detail;
    ui.chat.add(message, index);
    if (!ui.chat.isOpen && !message.mine) ui.controls.setUnread(ui.controls.unreadCount + 1);
  });
}

/**
 * The lobby: our wait on the pre-join screen; for hosts, the knocks and the switch.
 * @param {CallUI} ui
 * @param {CallSession} session
 */
function followLobby(ui, session) {
  const t = ui.t;
  const lobby = session.lobby;
  /**
   * @param {string} type
   * @param {(detail: any) => void} render
   */
  const on = (type, render) =>
    lobby.addEventListener(type, (event) => render(/** @type {CustomEvent} */ (event).detail));
  on("waiting", ({ host }) => ui.lobby.setWaiting({ host }));
  let heard = new Set();
  on("knocks", ({ knocks }) => {
    ui.lobby.setKnocks(knocks);
    let knocked = false;
    for (const knock of knocks) {
      if (!heard.has(knock.id) && session.host) {
        ui.banner.show(format(t.lobbyKnock, { name: knock.name }));
        knocked = true;
      }
    }
    if (knocked) {
      ui.knock.play(KNOCK_NOTES, 0.25).catch((error) => {
        console.warn("meet: the knock could not be played", error);
      });
    }
    heard = new Set(knocks.map((/** @type {{id: string}} */ knock) => knock.id));
  });
  on("state", ({ on: lobbyOn, announce }) => {
    ui.lobby.setOn(lobbyOn);
    if (announce) ui.banner.show(lobbyOn ? t.lobbyNowOn : t.lobbyNowOff);
  });
  session.addEventListener("phase", (event) => {
    const { phase } = /** @type {CustomEvent} */ (event).detail;
    if (phase !== "waiting") ui.lobby.setWaiting(null);
    ui.lobby.setHost(session.inCall && session.host);
  });
}

/**
 * Who leads the call changed: the tools, the acting host's tile, and a word
 * about it when it happens during the call.
 * @param {CallUI} ui
 * @param {CallSession} session
 * @param {import("../hosts.js").HostsChange} change
 */
function renderHosts(ui, session, { acting, previous, canHost, actingSelf, announce }) {
  const t = ui.t;
  ui.setHostRights({ canHost, acting: actingSelf ? SELF : acting });
  if (!announce) return;
  const name = acting ? session.roster.get(acting)?.name || "" : "";
  if (actingSelf) ui.banner.show(t.youAreActingHost);
  else if (acting) ui.banner.show(format(t.actingHostNow, { name }));
  else if (previous === session.hosts.selfId) ui.banner.show(t.actingHostOver);
}
