/**
 * A host's requests from the page, and obeying a request to mute: the
 * intents of the host tools (ui/host-tools.js) go to the server through
 * `session.hosts`, the lobby's (ui/lobby-view.js) through `session.lobby`; a `mute-request` mutes our own microphone and says who
 * asked. Unmuting stays ours: nothing here, or anywhere, unmutes us for
 * someone else. No DOM (the page through the facade).
 * @module
 */

import { format } from "./format.js";

/**
 * @param {object} parts
 * @param {import("./ui/index.js").CallUI} parts.ui
 * @param {import("./session.js").CallSession} parts.session
 * @param {import("./media.js").LocalMedia} parts.media
 * @param {Record<string, any>} parts.t the page's strings
 */
export function followHostRequests({ ui, session, media, t }) {
  const hosts = session.hosts;
  /** @param {Event} event */
  const id = (event) => /** @type {CustomEvent<{id: string}>} */ (event).detail.id;
  ui.addEventListener("kick", (event) => hosts.kick(id(event)));
  ui.addEventListener("mute", (event) => hosts.mute(id(event)));
  ui.addEventListener("mute-all", () => hosts.muteAll());
  ui.addEventListener("end", () => hosts.end());
  // The lobby: let someone in or turn them away (or everyone: id "*"); the switch.
  ui.addEventListener("lobby-answer", (event) => {
    const { kind, id } = /** @type {CustomEvent<{kind: "admit"|"deny", id: string}>} */ (event)
      .detail;
    if (kind === "admit") session.lobby.admit(id);
    else session.lobby.deny(id);
  });
  ui.addEventListener("lobby-toggle", () => session.lobby.setOn(!session.lobby.on));
  hosts.addEventListener("mute-requested", (event) => {
    if (!session.inCall || session.me.muted) return;
    media.setMuted(true);
    session.setState({ muted: true });
    const { from } = /** @type {CustomEvent<{from: string|null}>} */ (event).detail;
    const by = from ? session.roster.get(from)?.name : null;
    ui.notify(by ? format(t.mutedBy, { name: by }) : t.mutedByHost, { kind: "warning" });
  });
}
