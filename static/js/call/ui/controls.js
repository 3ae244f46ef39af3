/**
 * The control bar: microphone, camera, screen, hand, chat, settings, invite,
 * leave and end, each saying what a press does.
 * @module
 */

import { plural } from "../format.js";
import { byId, name, pressed } from "./dom.js";

/**
 * @typedef {{muted: boolean, camera: boolean, screen: boolean, hand: boolean,
 *   chat: boolean, micAvailable?: boolean}} ControlState
 */

export class Controls {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{host: boolean, canShare: boolean, lang: string}} options
   */
  constructor(doc, t, { host, canShare, lang }) {
    this.t = t;
    this.lang = lang;
    this.mic = /** @type {HTMLButtonElement} */ (byId(doc, "ctl-mic"));
    this.camera = byId(doc, "ctl-camera");
    this.screen = byId(doc, "ctl-screen");
    this.hand = byId(doc, "ctl-hand");
    this.chat = byId(doc, "ctl-chat");
    this.unread = byId(doc, "chat-unread");
    this.screen.hidden = !canShare;
    byId(doc, "ctl-end").hidden = !host;
    byId(doc, "ctl-invite").hidden = !host;
    byId(doc, "ctl-invite-guests").hidden = !host;
    name(byId(doc, "ctl-settings"), t.settings);
    name(byId(doc, "ctl-invite"), t.invite);
    name(byId(doc, "ctl-invite-guests"), t.inviteGuests);
    name(byId(doc, "ctl-leave"), t.leave);
    name(byId(doc, "ctl-end"), t.end);
    this.chatOpen = false;
    this.unreadCount = 0;
    /** @type {ControlState} what the buttons show now */
    this.state = {
      muted: false,
      camera: true,
      screen: false,
      hand: false,
      chat: false,
      micAvailable: true,
    };
  }

  /**
   * Show some of the state changed, the rest as it was.
   * @param {Partial<ControlState>} changes
   */
  update(changes) {
    Object.assign(this.state, changes);
    this.set(this.state);
  }

  /**
   * @param {ControlState} state
   */
  set(state) {
    const t = this.t;
    pressed(this.mic, state.muted, t.micOff, t.micOn);
    this.mic.disabled = state.micAvailable === false;
    pressed(this.camera, !state.camera, t.cameraOffLabel, t.cameraOnLabel);
    pressed(this.screen, state.screen, t.shareStop, t.shareStart);
    pressed(this.hand, state.hand, t.lowerHand, t.raiseHand);
    this.chatOpen = state.chat;
    this.renderChat();
  }

  /**
   * How many messages arrived while the chat was closed.
   * @param {number} count
   */
  setUnread(count) {
    this.unreadCount = count;
    this.unread.hidden = count === 0;
    this.unread.textContent = count > 99 ? "99+" : String(count);
    this.renderChat();
  }

  /** @private */
  renderChat() {
    const t = this.t;
    const unread = this.unreadCount && !this.chatOpen ? this.unreadCount : 0;
    const open = unread ? `${t.chatOpen} (${plural(t.chatUnread, unread, this.lang)})` : t.chatOpen;
    pressed(this.chat, this.chatOpen, t.chatClose, open);
  }
}
