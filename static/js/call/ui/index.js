/**
 * The call page's document, behind one facade: the views (pre-join, grid,
 * controls, chat panel, settings, banner, ended screen) are the only code
 * touching the DOM. It renders what the call session reports (`follow`:
 * session-view.js, and screens.js for the phase) and reports what the person
 * asks for as intent events (intents.js wires the fixed controls); it never
 * talks to the network itself.
 *
 * Intent events: `join`, `device` ({kind, id}), `prejoin-mic`,
 * `prejoin-camera`, `mic`, `camera`, `screen`, `hand`, `settings`,
 * `chat-send` ({text}), `invite`, `invite-guests`, `leave`, `end`, `kick` ({id}),
 * `mute` ({id}), `mute-all`, `retry-pair` ({id}), `rejoin`, `join-here`, `react` ({emoji}),
 * `lower-hand` ({id}), `file-send` ({file, to}), `file-accept` / `file-decline` /
 * `file-cancel` ({peer, id}), `lobby-answer` ({kind: "admit"|"deny", id}), `lobby-toggle`.
 * @module
 */

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
import { bindIntents, confirmKick } from "./intents.js";
import { LinkView } from "./link-view.js";
import { LobbyView } from "./lobby-view.js";
import { DevicePickers } from "./pickers.js";
import { PrejoinView } from "./prejoin.js";
import { SafetyView } from "./safety-view.js";
import { followSession } from "./session-view.js";
import { SettingsDialog } from "./settings.js";
import { SpeakerTest } from "./speaker-test.js";
import { Chime } from "./chime.js";

/** @typedef {import("../session.js").CallSession} CallSession */
/** @typedef {import("../session.js").MediaState} MediaState */
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
      onKick: (id) => confirmKick(this, id),
      onMute: (id) => this.emit("mute", { id }),
      onMuteAll: () => this.emit("mute-all"),
    });
    this.hostTools.set({ canHost: host, acting: null });
    this.lobby = new LobbyView(doc, t, {
      onAnswer: (kind, id) => this.emit("lobby-answer", { kind, id }),
      onToggle: () => this.emit("lobby-toggle"),
    });
    this.grid = new Grid(doc, t, {
      decorate: (id, element, info) => this.hostTools.decorate(id, element, info),
      onRetry: (id) => this.emit("retry-pair", { id }),
      onAudioBlocked: () =>
        this.banner.show(t.enableAudio, { action: "unlock-audio", sticky: true }),
    });
    this.links = new LinkView(doc, t, this.grid, lang);
    this.safety = new SafetyView(doc, t);
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
    // Hosts hear someone knock in the lobby (session-view.js).
    this.knock = new Chime(
      /** @type {HTMLAudioElement} */ (byId(doc, "knock-audio")),
      () => this.sinkId,
    );
    this.banner = new Banner(doc, (action) => {
      if (action === "unlock-audio") {
        this.grid.unlockAudio();
        this.banner.hide();
      }
    });
    this.ended = new EndedView(doc, t);
    /** Where "Sign in" goes (set by main from the configuration). */
    this.loginUrl = "";
    /** We joined as a guest (our own tile says so too). */
    this.guest = false;
    bindIntents(this);
    this.renderControls({});
  }

  /**
   * Report an intent (intents.js and the views' callbacks).
   * @param {string} type
   * @param {object} [detail]
   */
  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Open or close the chat panel (the chat button, its close button, Escape). */
  toggleChat() {
    this.chat.setOpen(!this.chat.isOpen);
    if (this.chat.isOpen) this.controls.setUnread(0);
    this.root.dataset.chat = this.chat.isOpen ? "open" : "closed";
    this.renderControls({});
  }

  /**
   * @private
   * @param {Partial<import("./controls.js").ControlState>} changes
   */
  renderControls(changes) {
    this.controls.update({ ...changes, chat: this.chat.isOpen });
    this.settings.setCamera(this.controls.state.camera);
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
    this.links.follow(monitor);
  }

  /**
   * Render the security code and, while a pair's ends disagree, the warning
   * (safety-check.js).
   * @param {import("../safety-check.js").SafetyCheck} check
   */
  followSafety(check) {
    this.safety.follow(check);
  }

  /**
   * Our own state changed: our tile and the controls follow.
   * @param {MediaState} state
   */
  renderSelf(state) {
    this.grid.update(SELF, { state });
    this.renderControls(state);
  }

  // --- What main.js tells the page directly --------------------------------------

  /**
   * The local preview and its buttons (pre-join).
   * @param {MediaStream} stream
   * @param {{camera: boolean, muted: boolean, hasCamera: boolean, hasMic: boolean}} state
   */
  showPreview(stream, state) {
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
    this.renderControls({ micAvailable: available });
  }

  /**
   * The microphone level meters (0–1): pre-join and settings.
   * @param {number} level
   */
  setLevel(level) {
    this.prejoin.setLevel(level);
    this.settings.setLevel(level);
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
