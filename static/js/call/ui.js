/**
 * Everything on the call page's DOM: the pre-join screen, the tiles, the
 * controls, chat and messages. The only module that touches the document.
 * It reports what the person asked for as events and never talks to the
 * network itself.
 *
 * Intent events: `join`, `retry`, `device` ({kind, id}), `prejoin-mic`,
 * `prejoin-camera`, `mic`, `camera`, `screen`, `hand`, `settings`, `chat-toggle`,
 * `chat-send` ({text}), `invite`, `leave`, `end`, `kick` ({id}),
 * `rejoin`, `join-here`, `unlock-audio`.
 * @module
 */

/**
 * Fill `%(name)s` placeholders of a translated string.
 * @param {string} text
 * @param {Object<string, string|number>} [values]
 * @returns {string}
 */
export function format(text, values = {}) {
  return String(text).replace(/%\((\w+)\)s/g, (match, key) =>
    key in values ? String(values[key]) : match,
  );
}

const SELF = "self";

/** The device pickers: the pre-join form's and the in-call settings' (select id, field id). */
const PICKERS = {
  videoinput: [
    ["select-camera", "camera-field"],
    ["settings-camera", "settings-camera-field"],
  ],
  audioinput: [
    ["select-mic", "mic-field"],
    ["settings-mic", "settings-mic-field"],
  ],
  audiooutput: [
    ["select-speaker", "speaker-field"],
    ["settings-speaker", "settings-speaker-field"],
  ],
};

/** The call page. */
export class CallUI extends EventTarget {
  /**
   * @param {Document} doc
   * @param {Object<string, string>} strings translated UI strings (rooms/callconfig.py)
   * @param {{host: boolean, canShare: boolean, maxLength: number, lang: string}} options
   */
  constructor(doc, strings, { host, canShare, maxLength, lang }) {
    super();
    this.doc = doc;
    this.t = strings;
    this.host = host;
    this.maxLength = maxLength;
    this.timeFormat = new Intl.DateTimeFormat(lang || undefined, {
      hour: "2-digit",
      minute: "2-digit",
    });
    this.$ = (id) => doc.getElementById(id);
    this.root = this.$("call");
    /** @type {Map<string, HTMLElement>} */
    this.tiles = new Map();
    this.sinkId = "";
    this.bannerTimer = 0;
    this.canSetSink = "setSinkId" in HTMLMediaElement.prototype;
    this.$("ctl-screen").hidden = !canShare;
    this.$("ctl-end").hidden = !host;
    this.$("ctl-invite").hidden = !host;
    this.bind();
    this.setControls({ muted: false, camera: true, screen: false, hand: false, chat: false });
  }

  /** @private */
  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @private Wire the static controls to intent events. */
  bind() {
    const click = (id, type) => this.$(id).addEventListener("click", () => this.emit(type));
    this.$("prejoin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.emit(this.$("join-button").dataset.retry ? "retry" : "join");
    });
    for (const [kind, pickers] of Object.entries(PICKERS)) {
      for (const [id] of pickers) {
        const select = this.$(id);
        select.addEventListener("change", () => this.emit("device", { kind, id: select.value }));
      }
    }
    click("prejoin-mic", "prejoin-mic");
    click("prejoin-camera", "prejoin-camera");
    click("ctl-mic", "mic");
    click("ctl-camera", "camera");
    click("ctl-screen", "screen");
    click("ctl-hand", "hand");
    click("ctl-chat", "chat-toggle");
    click("ctl-settings", "settings");
    click("chat-close", "chat-toggle");
    click("ctl-invite", "invite");
    click("ctl-leave", "leave");
    click("ended-rejoin", "rejoin");
    click("ended-join-here", "join-here");
    this.$("ctl-end").addEventListener("click", () => {
      if (window.confirm(this.t.endConfirm)) this.emit("end");
    });
    const input = this.$("chat-input");
    input.maxLength = this.maxLength;
    input.placeholder = this.t.chatPlaceholder;
    input.setAttribute("aria-label", this.t.chatPlaceholder);
    this.$("chat-send").setAttribute("aria-label", this.t.chatSend);
    this.$("chat-close").setAttribute("aria-label", this.t.chatClose);
    this.$("settings-close").setAttribute("aria-label", this.t.settingsClose);
    this.$("settings-close").title = this.t.settingsClose;
    this.$("settings-camera-hint").textContent = this.t.cameraChoiceWhileOff;
    this.$("chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat();
    });
    input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter breaks the line; never while composing Hangul.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendChat();
      }
    });
    input.addEventListener("input", () => {
      const hint = this.$("chat-hint");
      hint.textContent =
        input.value.length > this.maxLength * 0.9
          ? `${input.value.length} / ${this.maxLength}`
          : "";
    });
    this.$("banner").addEventListener("click", (event) => {
      if (event.target.closest("[data-action=unlock-audio]")) this.emit("unlock-audio");
    });
    this.doc.addEventListener("keydown", (event) => {
      // Escape in the settings dialog closes only the dialog (the browser does that).
      if (event.key === "Escape" && !this.$("chat-panel").hidden && !this.settingsOpen) {
        this.emit("chat-toggle");
      }
    });
    const settings = this.$("settings");
    this.$("settings-close").addEventListener("click", () => settings.close());
    // A click on the dimmed backdrop (the dialog box itself, outside its content) closes it.
    settings.addEventListener("click", (event) => {
      if (event.target === settings) settings.close();
    });
    settings.addEventListener("close", () => this.setSettingsError(null));
  }

  /** @private */
  sendChat() {
    const input = this.$("chat-input");
    const text = input.value.trim();
    if (!text) return;
    if (text.length > this.maxLength) {
      this.$("chat-hint").textContent = format(this.t.chatTooLong, { n: this.maxLength });
      return;
    }
    this.emit("chat-send", { text });
  }

  /** Clear the chat input after a message went out. */
  chatSent() {
    this.$("chat-input").value = "";
    this.$("chat-hint").textContent = "";
  }

  /**
   * A hint under the chat input (e.g. nobody is here to read it).
   * @param {string} text
   */
  chatHint(text) {
    this.$("chat-hint").textContent = text;
  }

  // --- Pre-join ---------------------------------------------------------------

  /**
   * Show the local preview.
   * @param {MediaStream} stream
   * @param {{camera: boolean, muted: boolean, hasCamera: boolean, hasMic: boolean}} state
   */
  showPreview(stream, { camera, muted, hasCamera, hasMic }) {
    const video = this.$("preview-video");
    if (video.srcObject !== stream) video.srcObject = stream;
    this.$("preview-box").dataset.camera = camera ? "on" : "off";
    this.$("preview-off").textContent = hasCamera ? this.t.cameraPreviewOff : this.t.noCameraAvailable;
    const mic = this.$("prejoin-mic");
    mic.disabled = !hasMic;
    this.pressed(mic, muted, this.t.micOff, this.t.micOn);
    mic.querySelector("use").setAttribute("href", muted || !hasMic ? "#i-mic-off" : "#i-mic");
    const cam = this.$("prejoin-camera");
    cam.disabled = !hasCamera;
    this.pressed(cam, !camera, this.t.cameraOffLabel, this.t.cameraOnLabel);
    cam.querySelector("use").setAttribute("href", camera ? "#i-cam" : "#i-cam-off");
  }

  /**
   * Set the microphone level meters (0–1): pre-join and settings.
   * @param {number} level
   */
  setLevel(level) {
    const transform = `scaleX(${level.toFixed(3)})`;
    this.$("mic-level").style.transform = transform;
    this.$("settings-mic-level").style.transform = transform;
  }

  /**
   * Fill the device pickers (pre-join and settings).
   * @param {{audioinput: MediaDeviceInfo[], videoinput: MediaDeviceInfo[], audiooutput: MediaDeviceInfo[]}} lists
   * @param {{audioinput?: string, videoinput?: string, audiooutput?: string}} selected
   */
  setDevices(lists, selected) {
    for (const [kind, pickers] of Object.entries(PICKERS)) {
      // Speakers only where the page can choose one (HTMLMediaElement.setSinkId).
      const devices = kind === "audiooutput" && !this.canSetSink ? [] : lists[kind];
      for (const [id, fieldId] of pickers) {
        const select = this.$(id);
        select.replaceChildren();
        devices.forEach((device, index) => {
          const option = this.doc.createElement("option");
          option.value = device.deviceId;
          option.textContent = device.label || format(this.t.deviceFallback, { n: index + 1 });
          select.append(option);
        });
        this.$(fieldId).hidden = devices.length === 0;
      }
    }
    this.selectDevices(selected);
  }

  /**
   * Show which devices are in use in every picker (after a switch, or a failed one).
   * @param {{audioinput?: string, videoinput?: string, audiooutput?: string}} selected
   */
  selectDevices(selected) {
    for (const [kind, pickers] of Object.entries(PICKERS)) {
      const value = selected[kind];
      for (const [id] of pickers) {
        const select = /** @type {HTMLSelectElement} */ (this.$(id));
        if (value && [...select.options].some((option) => option.value === value)) {
          select.value = value;
        }
      }
    }
  }

  /**
   * Explain a camera/microphone problem above the form (null hides it).
   * @param {string|null} text
   */
  setMediaNotice(text) {
    const notice = this.$("media-notice");
    notice.hidden = !text;
    notice.textContent = text || "";
  }

  /**
   * Show an error on the pre-join screen; with `retry` the Join button becomes "Try again".
   * @param {string|null} text
   * @param {{retry?: boolean}} [options]
   */
  setPrejoinError(text, { retry = false } = {}) {
    const error = this.$("prejoin-error");
    error.hidden = !text;
    error.textContent = text || "";
    const button = this.$("join-button");
    if (retry) button.dataset.retry = "1";
    else delete button.dataset.retry;
    button.textContent = retry ? this.t.retry : this.t.join;
    // On a phone the form is below the preview: bring the explanation into view.
    if (text) error.scrollIntoView({ block: "nearest" });
  }

  /**
   * Enable the Join button (or show it busy while joining).
   * @param {"ready"|"joining"|"waiting"} state
   */
  setJoinState(state) {
    const button = this.$("join-button");
    button.disabled = state !== "ready";
    button.setAttribute("aria-busy", String(state === "joining"));
    if (state === "joining") button.textContent = this.t.joining;
    else button.textContent = button.dataset.retry ? this.t.retry : this.t.join;
  }

  /** The name typed on the pre-join screen. */
  get displayName() {
    return this.$("display-name").value.trim().slice(0, 50);
  }

  /** Focus the Join button (keyboard users land on the main action). */
  focusJoin() {
    this.$("join-button").focus();
  }

  // --- In the call --------------------------------------------------------------

  /** Switch from the pre-join screen to the call. */
  enterCall() {
    this.root.dataset.phase = "call";
    this.$("prejoin").hidden = true;
    this.$("ended").hidden = true;
    this.$("incall").hidden = false;
    this.$("preview-video").srcObject = null;
    this.updateChatEmpty();
  }

  /** Back to the pre-join screen (the room was full). */
  backToPrejoin(stream) {
    this.closeSettings();
    this.root.dataset.phase = "prejoin";
    this.$("incall").hidden = true;
    this.$("prejoin").hidden = false;
    this.$("preview-video").srcObject = stream;
    this.clearTiles();
  }

  /**
   * Add (or replace) a participant's tile.
   * @param {string} id peer id, or "self"
   * @param {{name: string, host?: boolean, state?: object}} info
   */
  addTile(id, { name, host = false, state = {} }) {
    this.removeTile(id);
    const tile = /** @type {HTMLElement} */ (
      this.$("tile-template").content.firstElementChild.cloneNode(true)
    );
    const self = id === SELF;
    tile.dataset.peerId = id;
    if (self) {
      tile.dataset.self = "";
      tile.dataset.state = "connected";
      tile.querySelector(".tile-audio").remove();
    }
    tile.querySelector(".tile-name").textContent = self ? format(this.t.youSuffix, { name }) : name;
    tile.querySelector(".initial").textContent = Array.from(name.trim() || "?")[0].toUpperCase();
    tile.querySelector(".tile-muted").setAttribute("aria-label", this.t.muted);
    tile.querySelector(".tile-camera-off").setAttribute("aria-label", this.t.cameraOff);
    tile.querySelector(".tile-screen").setAttribute("aria-label", this.t.sharing);
    tile.querySelector(".tile-hand").setAttribute("aria-label", this.t.handRaised);
    tile.dataset.name = name;
    if (host) tile.dataset.host = "";
    const kick = tile.querySelector(".tile-kick");
    if (this.host && !self) {
      kick.hidden = false;
      const label = format(this.t.kick, { name });
      kick.setAttribute("aria-label", label);
      kick.title = label;
      kick.addEventListener("click", () => {
        if (window.confirm(format(this.t.kickConfirm, { name }))) this.emit("kick", { id });
      });
    }
    const audio = tile.querySelector(".tile-audio");
    if (audio && this.sinkId) audio.setSinkId(this.sinkId).catch(() => {});
    this.tiles.set(id, tile);
    const grid = this.$("grid");
    if (self) grid.prepend(tile);
    else grid.append(tile);
    this.setTileMedia(id, state);
    if (!self) this.setTileConnection(id, "connecting");
    this.layout();
  }

  /**
   * Remove a participant's tile.
   * @param {string} id
   */
  removeTile(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    for (const media of tile.querySelectorAll("video, audio")) media.srcObject = null;
    tile.remove();
    this.tiles.delete(id);
    this.layout();
  }

  /** Remove every remote tile (rejoining under a new peer id). */
  clearTiles({ keepSelf = false } = {}) {
    for (const id of [...this.tiles.keys()]) if (!keepSelf || id !== SELF) this.removeTile(id);
  }

  /** @private */
  layout() {
    const grid = this.$("grid");
    grid.dataset.count = String(this.tiles.size);
    const alone = this.tiles.size <= 1 && this.root.dataset.phase === "call";
    grid.dataset.alone = alone ? "true" : "false";
    grid.setAttribute("data-waiting", alone ? this.t.alone : "");
  }

  /**
   * Show a stream in a tile (video muted; remote audio plays through its own element).
   * @param {string} id
   * @param {MediaStream} stream
   */
  setTileStream(id, stream) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const video = tile.querySelector("video");
    if (video.srcObject !== stream) {
      video.srcObject = stream;
      if (id !== SELF) this.markFirstFrame(id, video);
    }
    const audio = tile.querySelector("audio");
    if (audio && audio.srcObject !== stream) {
      audio.srcObject = stream;
      audio.play().catch(() => this.askToUnlockAudio());
    }
    video.play().catch(() => {});
  }

  /** @private Performance mark when the first remote frame is on screen. */
  markFirstFrame(id, video) {
    const mark = () => performance.mark(`meet:first-frame:${id}`);
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(mark);
    else video.addEventListener("loadeddata", mark, { once: true });
  }

  /**
   * Show a participant's muted / camera / screen / hand state.
   * @param {string} id
   * @param {{muted?: boolean, camera?: boolean, screen?: boolean, hand?: boolean}} state
   */
  setTileMedia(id, state) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.dataset.muted = String(!!state.muted);
    tile.dataset.camera = String(state.camera !== false || !!state.screen);
    tile.dataset.screen = String(!!state.screen);
    tile.dataset.hand = String(!!state.hand);
  }

  /**
   * Show the connection state of a remote participant.
   * @param {string} id
   * @param {"connecting"|"connected"|"reconnecting"|"failed"} state
   */
  setTileConnection(id, state) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.dataset.state = state;
    const key = `state${state[0].toUpperCase()}${state.slice(1)}`;
    tile.querySelector(".tile-state").textContent = this.t[key] || state;
  }

  /**
   * Play remote audio on another output device (where the browser can).
   * @param {string} sinkId
   * @returns {Promise<boolean>} false if it could not be used (the previous one stays)
   */
  async setSpeaker(sinkId) {
    if (!this.canSetSink) return false;
    const previous = this.sinkId;
    // Set first: a tile added meanwhile plays on the new speaker too.
    this.sinkId = sinkId;
    const audios = [...this.doc.querySelectorAll(".tile-audio")];
    try {
      await Promise.all(audios.map((audio) => audio.setSinkId(sinkId)));
      return true;
    } catch (error) {
      console.warn("meet: could not use that speaker", error);
      this.sinkId = previous;
      await Promise.all(audios.map((audio) => audio.setSinkId(previous).catch(() => {})));
      return false;
    }
  }

  // --- Settings (devices during the call) ------------------------------------------

  /** Open the settings dialog (modal: focus stays inside, Escape closes it). */
  openSettings() {
    const dialog = /** @type {HTMLDialogElement} */ (this.$("settings"));
    this.setSettingsError(null);
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector(".field:not([hidden]) select");
    if (first) first.focus();
  }

  /** Close the settings dialog. */
  closeSettings() {
    const dialog = /** @type {HTMLDialogElement} */ (this.$("settings"));
    if (dialog.open) dialog.close();
  }

  /** Whether the settings dialog is open. */
  get settingsOpen() {
    return /** @type {HTMLDialogElement} */ (this.$("settings")).open;
  }

  /**
   * Explain in the settings dialog why a device could not be used (null hides it).
   * @param {string|null} text
   */
  setSettingsError(text) {
    const error = this.$("settings-error");
    error.hidden = !text;
    error.textContent = text || "";
  }

  /** @private Autoplay with sound was refused: one click fixes it. */
  askToUnlockAudio() {
    this.banner(this.t.enableAudio || "🔈", { action: "unlock-audio", sticky: true });
  }

  /** Retry playing remote audio after a click. */
  unlockAudio() {
    for (const audio of this.doc.querySelectorAll(".tile-audio")) audio.play().catch(() => {});
    this.hideBanner();
  }

  /**
   * Set the control bar to the current state.
   * @param {{muted: boolean, camera: boolean, screen: boolean, hand: boolean, chat: boolean, cameraAvailable?: boolean, micAvailable?: boolean}} state
   */
  setControls(state) {
    const t = this.t;
    this.pressed(this.$("ctl-mic"), state.muted, t.micOff, t.micOn);
    this.$("ctl-mic").disabled = state.micAvailable === false;
    this.pressed(this.$("ctl-camera"), !state.camera, t.cameraOffLabel, t.cameraOnLabel);
    this.pressed(this.$("ctl-screen"), state.screen, t.shareStop, t.shareStart);
    this.pressed(this.$("ctl-hand"), state.hand, t.lowerHand, t.raiseHand);
    this.pressed(this.$("ctl-chat"), state.chat, t.chatClose, t.chatOpen);
    this.$("ctl-settings").setAttribute("aria-label", t.settings);
    this.$("ctl-settings").title = t.settings;
    // With the camera off, a camera picked in the settings waits for it to be on.
    this.$("settings-camera-hint").hidden = state.camera;
    this.$("ctl-invite").setAttribute("aria-label", t.invite);
    this.$("ctl-invite").title = t.invite;
    this.$("ctl-leave").setAttribute("aria-label", t.leave);
    this.$("ctl-leave").title = t.leave;
    this.$("ctl-end").setAttribute("aria-label", t.end);
    this.$("ctl-end").title = t.end;
    const panel = this.$("chat-panel");
    const wasHidden = panel.hidden;
    panel.hidden = !state.chat;
    this.root.dataset.chat = state.chat ? "open" : "closed";
    if (state.chat && wasHidden) this.$("chat-input").focus();
  }

  /** @private A toggle button: aria-pressed plus a label saying what a click does. */
  pressed(button, on, labelWhenOn, labelWhenOff) {
    button.setAttribute("aria-pressed", String(!!on));
    const label = on ? labelWhenOn : labelWhenOff;
    button.setAttribute("aria-label", label);
    button.title = label;
  }

  // --- Chat ---------------------------------------------------------------------------

  /**
   * Insert a chat message at `index` of the time-ordered list. Text only.
   * @param {{id: string, name: string, text: string, ts: number, mine?: boolean}} message
   * @param {number} index
   */
  addChatMessage(message, index) {
    const item = /** @type {HTMLElement} */ (
      this.$("chat-message-template").content.firstElementChild.cloneNode(true)
    );
    item.dataset.id = message.id;
    if (message.mine) item.dataset.mine = "";
    item.querySelector(".chat-name").textContent = message.mine ? this.t.you : message.name;
    const time = item.querySelector(".chat-time");
    const date = new Date(message.ts);
    time.dateTime = date.toISOString();
    time.textContent = this.timeFormat.format(date);
    item.querySelector(".chat-text").textContent = message.text;
    const log = this.$("chat-log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.insertBefore(item, log.children[index] || null);
    if (atBottom || message.mine) log.scrollTop = log.scrollHeight;
    this.updateChatEmpty();
  }

  /** @private */
  updateChatEmpty() {
    const empty = this.$("chat-empty");
    empty.textContent = this.t.chatEmpty;
    empty.hidden = this.$("chat-log").children.length > 0;
  }

  /**
   * Show how many messages arrived while the chat was closed.
   * @param {number} count
   */
  setUnread(count) {
    const badge = this.$("chat-unread");
    badge.hidden = count === 0;
    badge.textContent = count > 99 ? "99+" : String(count);
    const label = count ? `${this.t.chatOpen} (${format(this.t.chatUnread, { n: count })})` : "";
    if (label) this.$("ctl-chat").setAttribute("aria-label", label);
  }

  // --- Messages --------------------------------------------------------------------------

  /**
   * A short message above the call.
   * @param {string} text
   * @param {{kind?: "info"|"warning"|"error", sticky?: boolean, action?: string, actionLabel?: string}} [options]
   */
  banner(text, { kind = "info", sticky = false, action = "", actionLabel = "" } = {}) {
    const banner = this.$("banner");
    banner.replaceChildren();
    const span = this.doc.createElement("span");
    span.textContent = text;
    banner.append(span);
    if (action) {
      const button = this.doc.createElement("button");
      button.type = "button";
      button.dataset.action = action;
      button.textContent = actionLabel || text;
      if (!actionLabel) span.remove();
      banner.append(button);
    }
    banner.dataset.kind = kind;
    banner.hidden = false;
    clearTimeout(this.bannerTimer);
    if (!sticky) this.bannerTimer = setTimeout(() => this.hideBanner(), 4000);
  }

  /**
   * Hide the banner (optionally only if it shows `kind`).
   * @param {string} [kind]
   */
  hideBanner(kind) {
    const banner = this.$("banner");
    if (kind && banner.dataset.kind !== kind) return;
    banner.hidden = true;
    banner.dataset.kind = "";
  }

  /**
   * Replace the call with a full-page message.
   * @param {string} text
   * @param {{rejoin?: boolean, joinHere?: boolean, login?: string}} [actions]
   */
  showEnded(text, { rejoin = false, joinHere = false, login = "" } = {}) {
    this.closeSettings();
    this.root.dataset.phase = "ended";
    this.clearTiles();
    this.$("prejoin").hidden = true;
    this.$("incall").hidden = true;
    const section = this.$("ended");
    section.hidden = false;
    this.$("ended-title").textContent = text;
    const rejoinButton = this.$("ended-rejoin");
    rejoinButton.hidden = !rejoin;
    rejoinButton.textContent = this.t.rejoin;
    const joinHereButton = this.$("ended-join-here");
    joinHereButton.hidden = !joinHere;
    joinHereButton.textContent = this.t.joinHere;
    const loginLink = this.$("ended-login");
    loginLink.hidden = !login;
    loginLink.textContent = this.t.signIn;
    if (login) loginLink.href = login;
    this.$("ended-room").textContent = this.t.backToRoom;
    const first = section.querySelector("button:not([hidden]), a:not([hidden])");
    if (first) first.focus();
  }
}
