/**
 * The video grid: one tile per person (ourselves first), each a labelled
 * region saying who it is and how they are doing; a failed pair says what it
 * means and offers Retry.
 * @module
 */

import { format, initial } from "../format.js";
import { byId, find, fromTemplate } from "./dom.js";

/** @typedef {import("../session.js").MediaState} MediaState */
/** @typedef {import("../session.js").PairState} PairState */

/** The tile id of our own view. */
export const SELF = "self";

/**
 * @typedef {object} TileInfo
 * @property {string} name
 * @property {boolean} host
 * @property {boolean} [guest] joined as a guest: labelled so next to the name
 * @property {MediaState} state
 * @property {PairState} connection
 */

export class Grid {
  /**
   * @param {Document} doc
   * @param {Record<string, any>} t the page's strings
   * @param {{decorate: (id: string, element: HTMLElement, info: TileInfo) => string[],
   *   onRetry: (id: string) => void, onAudioBlocked: () => void}} options `decorate`
   *   adds what else a tile shows (a host's tools, ui/host-tools.js) and returns
   *   what its name should say besides the person's name
   */
  constructor(doc, t, { decorate, onRetry, onAudioBlocked }) {
    this.doc = doc;
    this.t = t;
    this.decorate = decorate;
    this.onRetry = onRetry;
    this.onAudioBlocked = onAudioBlocked;
    this.grid = byId(doc, "grid");
    this.waiting = byId(doc, "waiting");
    this.waiting.textContent = t.alone;
    /** @type {Map<string, {element: HTMLElement, info: TileInfo}>} */
    this.tiles = new Map();
    this.sinkId = "";
    this.canSetSink = "setSinkId" in HTMLMediaElement.prototype;
    this.inCall = false;
  }

  /**
   * Add (or replace) a person's tile.
   * @param {string} id peer id, or SELF
   * @param {TileInfo} info
   */
  add(id, info) {
    this.remove(id);
    const tile = fromTemplate(this.doc, "tile-template");
    const self = id === SELF;
    tile.dataset.peerId = id;
    tile.dataset.name = info.name;
    if (self) {
      tile.dataset.self = "";
      find(tile, ".tile__audio").remove();
    }
    if (info.host) tile.dataset.host = "";
    if (info.guest) tile.dataset.guest = "";
    find(tile, ".tile__name").textContent = this.displayName(id, info);
    find(tile, ".tile__initial").textContent = initial(info.name);
    const retry = find(tile, ".tile__retry");
    retry.textContent = this.t.pairRetry;
    retry.setAttribute("aria-label", format(this.t.pairRetryLabel, { name: info.name }));
    retry.addEventListener("click", () => this.onRetry(id));
    const audio = tile.querySelector(".tile__audio");
    if (audio instanceof HTMLAudioElement && this.sinkId) {
      audio.setSinkId(this.sinkId).catch(() => {});
    }
    this.tiles.set(id, { element: tile, info: { ...info } });
    if (self) this.grid.prepend(tile);
    else this.grid.insertBefore(tile, this.waiting);
    this.render(id);
    this.layout();
  }

  /**
   * @param {string} id
   */
  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    for (const media of tile.element.querySelectorAll("video, audio")) {
      /** @type {HTMLMediaElement} */ (media).srcObject = null;
    }
    tile.element.remove();
    this.tiles.delete(id);
    this.layout();
  }

  /** Remove every tile (the call is over here, or starts over). */
  clear() {
    for (const id of [...this.tiles.keys()]) this.remove(id);
  }

  /**
   * Whether we are in the call (alone, the grid says so).
   * @param {boolean} inCall
   */
  setInCall(inCall) {
    this.inCall = inCall;
    this.layout();
  }

  /**
   * Update what a tile shows.
   * @param {string} id
   * @param {Partial<TileInfo>} changes
   */
  update(id, changes) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    Object.assign(tile.info, changes);
    this.render(id);
  }

  /** Render every tile again (what the tiles' decorations depend on changed). */
  renderAll() {
    for (const id of this.tiles.keys()) this.render(id);
  }

  /**
   * @private
   * @param {string} id
   */
  render(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const { element, info } = tile;
    const { state } = info;
    const self = id === SELF;
    const connection = self ? "connected" : info.connection;
    element.dataset.muted = String(!!state.muted);
    element.dataset.camera = String(state.camera !== false || !!state.screen);
    element.dataset.screen = String(!!state.screen);
    element.dataset.hand = String(!!state.hand);
    element.dataset.state = connection;
    const stateText = this.t[`state${connection[0].toUpperCase()}${connection.slice(1)}`];
    find(element, ".tile__state").textContent = self ? "" : stateText;
    const problem = find(element, ".tile__problem");
    problem.hidden = connection !== "failed";
    if (!problem.hidden) {
      find(problem, ".tile__problem-title").textContent = format(this.t.pairFailed, {
        name: info.name,
      });
      find(problem, ".tile__problem-hint").textContent = format(this.t.pairFailedHint, {
        name: info.name,
      });
    }
    // One name for the region: who, and everything the icons show.
    const parts = [this.displayName(id, info), ...this.decorate(id, element, info)];
    if (!self && connection !== "connected") parts.push(stateText);
    if (state.muted) parts.push(this.t.muted);
    if (state.camera === false && !state.screen) parts.push(this.t.cameraOff);
    if (state.screen) parts.push(this.t.sharing);
    if (state.hand) parts.push(this.t.handRaised);
    element.setAttribute("aria-label", parts.join(", "));
  }

  /**
   * @private
   * @param {string} id
   * @param {{name: string, guest?: boolean}} info
   */
  displayName(id, { name, guest }) {
    const shown = guest ? format(this.t.guestName, { name }) : name;
    return id === SELF ? format(this.t.youSuffix, { name: shown }) : shown;
  }

  /** @private */
  layout() {
    const alone = this.inCall && this.tiles.size <= 1;
    this.grid.dataset.count = String(this.tiles.size);
    this.grid.dataset.alone = String(alone);
    this.waiting.hidden = !alone;
  }

  /**
   * Show a stream in a tile (video muted; remote audio plays through its own element).
   * @param {string} id
   * @param {MediaStream} stream
   */
  setStream(id, stream) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const video = /** @type {HTMLVideoElement} */ (find(tile.element, ".tile__video"));
    if (video.srcObject !== stream) {
      video.srcObject = stream;
      if (id !== SELF) markFirstFrame(id, video);
    }
    const audio = tile.element.querySelector(".tile__audio");
    if (audio instanceof HTMLAudioElement && audio.srcObject !== stream) {
      audio.srcObject = stream;
      audio.play().catch(() => this.onAudioBlocked());
    }
    video.play().catch(() => {});
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
    const audios = this.audios();
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

  /** Retry playing remote audio after a click (autoplay with sound was refused). */
  unlockAudio() {
    for (const audio of this.audios()) audio.play().catch(() => {});
  }

  /**
   * @private
   * @returns {HTMLAudioElement[]}
   */
  audios() {
    return [...this.grid.querySelectorAll(".tile__audio")].map(
      (audio) => /** @type {HTMLAudioElement} */ (audio),
    );
  }
}

/**
 * Performance mark when the first frame of a peer's video is on screen.
 * @param {string} id
 * @param {HTMLVideoElement} video
 */
function markFirstFrame(id, video) {
  const mark = () => performance.mark(`meet:first-frame:${id}`);
  /** @type {HTMLMediaElement} */
  const element = video;
  if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(mark);
  else element.addEventListener("loadeddata", mark, { once: true });
}
