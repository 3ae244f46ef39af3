/**
 * The call page's document, behind one facade: the views (pre-join, grid,
 * controls, chat panel, settings, banner, ended screen) are the only code
 * touching the DOM. It renders what the call session reports (`follow`) and
 * reports what the person asks for as intent events; it never talks to the
 * network itself.
 *
 * Intent events: `join`, `device` ({kind, id}), `prejoin-mic`,
 * `prejoin-camera`, `mic`, `camera`, `screen`, `hand`, `settings`,
 * `chat-send` ({text}), `invite`, `leave`, `end`, `kick` ({id}),
 * `mute` ({id}), `mute-all`, `retry-pair` ({id}), `rejoin`, `join-here`, `react` ({emoji}),
 * `lower-hand` ({id}), `file-send` ({file, to}), `file-accept` / `file-decline` /
 * `file-cancel` ({peer, id}).
 * @module
 */

import { format } from "../format.js";
import { Banner } from "./banner.js";
import { ChatPanel } from "./chat-panel.js";
import { Controls } from "./controls.js";
import { byId } from "./dom.js";
import { EndedView } from "./ended.js";
import { FilePicker } from "./file-picker.js";
import { FilesView } from "./files.js";
import { GesturesView } from "./gestures.js";
import { Grid, SELF } from "./grid.js";
import { HostTools } from "./host-tools.js";
import { LinkView } from "./link-view.js";
import { DevicePickers } from "./pickers.js";
import { PrejoinView } from "./prejoin.js";
import { followSession } from "./session-view.js";
import { SettingsDialog } from "./settings.js";
import { SpeakerTest } from "./speaker-test.js";

/** @typedef {import("../session.js").CallSession} CallSession */
/** @typedef {import("../session.js").Participant} Participant */
/** @typedef {import("../session.js").MediaState} MediaState */
/** @typedef {import("../protocol.js").Outcome} Outcome */
/** @typedef {import("./pickers.js").DeviceLists} DeviceLists */
/** @typedef {import("./pickers.js").DeviceChoice} DeviceChoice */

export class CallUI extends EventTarget {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t translated strings (rooms/callconfig.py)
   * @param {{host: boolean, canShare: boolean, maxLength: number, lang: string}} options
   */
  constructor(doc, t, { host, canShare, maxLength, lang }) {
    super();
    this.doc = doc;
    this.t = t;
    this.root = byId(doc, "call");
    this.incall = byId(doc, "incall");
    this.prejoin = new PrejoinView(doc, t);
    this.pickers = new DevicePickers(doc, t, {
      canSetSink: "setSinkId" in HTMLMediaElement.prototype,
      onPick: (kind, id) => this.emit("device", { kind, id }),
    });
    this.hostTools = new HostTools(doc, t, {
      onKick: (id) => this.confirmKick(id),
      onMute: (id) => this.emit("mute", { id }),
      onMuteAll: () => this.emit("mute-all"),
    });
    this.hostTools.set({ canHost: host, acting: null });
    this.grid = new Grid(doc, t, {
      decorate: (id, element, info) => this.hostTools.decorate(id, element, info),
      onRetry: (id) => this.emit("retry-pair", { id }),
      onAudioBlocked: () =>
        this.banner.show(t.enableAudio, { action: "unlock-audio", sticky: true }),
    });
    this.links = new LinkView(doc, t, this.grid, lang);
    this.controls = new Controls(doc, t, { host, canShare, lang });
    this.files = new FilesView(doc, t, {
      lang,
      onAnswer: (action, peer, id) => this.emit(`file-${action}`, { peer, id }),
    });
    this.filePicker = new FilePicker(doc, t, {
      onSend: (file, to) => this.emit("file-send", { file, to }),
    });
    this.gestures = new GesturesView(doc, t, {
      grid: this.grid,
      onReact: (emoji) => this.emit("react", { emoji }),
      onLower: (id) => this.emit("lower-hand", { id }),
    });
    this.chat = new ChatPanel(doc, t, {
      maxLength,
      lang,
      onSend: (text) => this.emit("chat-send", { text }),
    });
    this.settings = new SettingsDialog(doc, t);
    this.speakerTest = new SpeakerTest(doc, t, { sinkId: () => this.sinkId });
    this.banner = new Banner(doc, (action) => {
      if (action === "unlock-audio") {
        this.grid.unlockAudio();
        this.banner.hide();
      }
    });
    this.ended = new EndedView(doc, t);
    this.levels = [byId(doc, "mic-level"), byId(doc, "settings-mic-level")];
    /** Where "Sign in" goes (set by main from the configuration). */
    this.loginUrl = "";
    /** @type {MediaStream|null} the preview shown on the pre-join screen */
    this.previewStream = null;
    /** @type {MediaState & {micAvailable: boolean}} */
    this.controlState = {
      muted: false,
      camera: true,
      screen: false,
      hand: false,
      micAvailable: true,
    };
    this.bind();
    this.renderControls();
  }

  /**
   * @private
   * @param {string} type
   * @param {object} [detail]
   */
  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @private Wire the page's fixed controls to intents. */
  bind() {
    /** @type {[string, string][]} */
    const clicks = [
      ["prejoin-mic", "prejoin-mic"],
      ["prejoin-camera", "prejoin-camera"],
      ["ctl-mic", "mic"],
      ["ctl-camera", "camera"],
      ["ctl-screen", "screen"],
      ["ctl-hand", "hand"],
      ["ctl-settings", "settings"],
      ["ctl-invite", "invite"],
      ["ctl-leave", "leave"],
      ["ended-rejoin", "rejoin"],
      ["ended-join-here", "join-here"],
    ];
    for (const [id, type] of clicks) {
      byId(this.doc, id).addEventListener("click", () => this.emit(type));
    }
    this.prejoin.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.emit("join");
    });
    byId(this.doc, "ctl-chat").addEventListener("click", () => this.toggleChat());
    byId(this.doc, "chat-close").addEventListener("click", () => this.toggleChat());
    byId(this.doc, "ctl-end").addEventListener("click", () => {
      if (window.confirm(this.t.endConfirm)) this.emit("end");
    });
    this.doc.addEventListener("keydown", (event) => {
      // Escape in the settings dialog closes only the dialog (the browser does that).
      if (event.key === "Escape" && this.chat.isOpen && !this.settings.isOpen) this.toggleChat();
    });
  }

  /**
   * @private
   * @param {string} id
   */
  confirmKick(id) {
    const tile = this.grid.tiles.get(id);
    const name = tile ? tile.info.name : "";
    if (window.confirm(format(this.t.kickConfirm, { name }))) this.emit("kick", { id });
  }

  /** @private */
  toggleChat() {
    this.chat.setOpen(!this.chat.isOpen);
    if (this.chat.isOpen) this.controls.setUnread(0);
    this.root.dataset.chat = this.chat.isOpen ? "open" : "closed";
    this.renderControls();
  }

  /** @private */
  renderControls() {
    this.controls.set({ ...this.controlState, chat: this.chat.isOpen });
    this.settings.setCamera(this.controlState.camera);
  }

  /**
   * Who may use a host's tools now, and who is acting host (a tile id).
   * @param {{canHost: boolean, acting: string|null}} rights
   */
  setHostRights(rights) {
    this.hostTools.set(rights);
    this.grid.renderAll();
  }

  /**
   * Render everything the session reports, from now on (session-view.js).
   * @param {CallSession} session
   */
  follow(session) {
    followSession(this, session);
  }

  /**
   * Render each pair's link health and the active speaker (links.js).
   * @param {import("../links.js").LinkMonitor} monitor
   */
  followLinks(monitor) {
    /** @param {Event} event */
    const detail = (event) => /** @type {CustomEvent} */ (event).detail;
    monitor.addEventListener("link", (event) => this.links.render(detail(event).participant));
    monitor.addEventListener("speaker", (event) => this.links.setSpeaker(detail(event).id));
    monitor.session.addEventListener("participant-left", (event) => {
      this.links.forget(detail(event).participant.id);
    });
  }

  /**
   * Switch to the call view with our own tile.
   * @param {CallSession} session
   */
  enterCall(session) {
    this.root.dataset.phase = "call";
    this.prejoin.setShown(false);
    this.speakerTest.close();
    this.ended.section.hidden = true;
    this.incall.hidden = false;
    this.grid.setInCall(true);
    this.grid.add(SELF, {
      name: session.name,
      host: session.host,
      state: { ...session.me },
      connection: "connected",
    });
  }

  /** Out of the call view (back to the pre-join screen or to the end). */
  leaveCall() {
    this.settings.close();
    this.gestures.clear();
    this.links.close();
    this.files.clear();
    this.filePicker.setOpen(false);
    this.grid.setInCall(false);
    this.grid.clear();
    this.incall.hidden = true;
    this.root.dataset.phase = "prejoin";
    this.prejoin.setShown(true, this.previewStream);
  }

  /**
   * Our own state changed: our tile and the controls follow.
   * @param {MediaState} state
   */
  renderSelf(state) {
    this.grid.update(SELF, { state });
    Object.assign(this.controlState, state);
    this.renderControls();
  }

  /**
   * A chat message arrived (or was sent): into the log, and counted if unseen.
   * @param {import("../chat.js").ChatMessage} message
   * @param {number} index
   */
  addChatMessage(message, index) {
    this.chat.add(message, index);
    if (!this.chat.isOpen && !message.mine) this.controls.setUnread(this.controls.unreadCount + 1);
  }

  // --- What main.js tells the page directly --------------------------------------

  /**
   * The local preview and its buttons (pre-join).
   * @param {MediaStream} stream
   * @param {{camera: boolean, muted: boolean, hasCamera: boolean, hasMic: boolean}} state
   */
  showPreview(stream, state) {
    this.previewStream = stream;
    this.prejoin.showPreview(stream, state);
  }

  /**
   * Our own video in the call.
   * @param {MediaStream} stream
   */
  setSelfStream(stream) {
    this.grid.setStream(SELF, stream);
  }

  /**
   * Whether the microphone exists (the control is disabled without one).
   * @param {boolean} available
   */
  setMicAvailable(available) {
    this.controlState.micAvailable = available;
    this.renderControls();
  }

  /**
   * The microphone level meters (0–1): pre-join and settings.
   * @param {number} level
   */
  setLevel(level) {
    const transform = `scaleX(${level.toFixed(3)})`;
    for (const bar of this.levels) bar.style.transform = transform;
  }

  /**
   * @param {DeviceLists} lists
   * @param {DeviceChoice} selected
   */
  setDevices(lists, selected) {
    this.pickers.setDevices(lists, selected);
  }

  /**
   * @param {DeviceChoice} selected
   */
  selectDevices(selected) {
    this.pickers.select(selected);
  }

  /**
   * @param {string} sinkId
   * @returns {Promise<boolean>}
   */
  setSpeaker(sinkId) {
    return this.grid.setSpeaker(sinkId);
  }

  /** The speaker in use ("" for the default). */
  get sinkId() {
    return this.grid.sinkId;
  }

  /**
   * Explain a device problem where the person is looking (null clears it).
   * @param {string|null} text
   * @param {"prejoin"|"call"} where
   */
  deviceProblem(text, where) {
    if (where === "prejoin") this.prejoin.setMediaNotice(text);
    else if (this.settings.isOpen) this.settings.setError(text);
    else if (text) this.banner.show(text, { kind: "error" });
  }

  /**
   * A short message above the call.
   * @param {string} text
   * @param {{kind?: import("./banner.js").BannerKind, sticky?: boolean}} [options]
   */
  notify(text, options) {
    this.banner.show(text, options);
  }

  /** Open the settings dialog. */
  openSettings() {
    this.settings.open();
  }

  get settingsOpen() {
    return this.settings.isOpen;
  }

  /** @returns {string} the name typed on the pre-join screen */
  get displayName() {
    return this.prejoin.displayName;
  }
}
