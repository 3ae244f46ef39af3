/**
 * Entry point of the call page: reads the configuration Django rendered with
 * `json_script` and wires the call session (session.js), local media
 * (media.js) and the page (ui/). The session owns the call; this file only
 * passes intents and media changes along.
 *
 * Performance marks (docs/call.md): meet:join-click, meet:ws-open,
 * meet:join-sent, meet:welcome, meet:offer-sent:<peer>, meet:answer:<peer>
 * (or meet:answer-sent:<peer> on the answering side),
 * meet:ice-connected:<peer>, meet:first-frame:<peer>.
 * @module
 */

import { Chat } from "./chat.js";
import { ViewReporter } from "./encoding.js";
import { FileTransfers } from "./files.js";
import { format, formatBytes } from "./format.js";
import { followHostRequests } from "./host-requests.js";
import { copyInviteLink } from "./invite-link.js";
import { LinkReporter } from "./link-report.js";
import { LinkMonitor } from "./links.js";
import { LocalMedia } from "./media.js";
import { loadPrefs, savePrefs } from "./prefs.js";
import { SafetyCheck } from "./safety-check.js";
import { CallSession } from "./session.js";
import { Signaling } from "./signaling.js";
import { CallUI } from "./ui/index.js";
import { watchTileSizes } from "./ui/tile-size.js";

/** @typedef {import("./ui/pickers.js").DeviceKind} DeviceKind */
/** @typedef {import("./media.js").MediaProblem} MediaProblem */
/** @typedef {import("./ui/file-picker.js").FileTarget} FileTarget */

const config = JSON.parse(document.getElementById("call-config")?.textContent || "{}");
const t = config.strings;

const ui = new CallUI(document, t, {
  host: config.me.host,
  canShare: LocalMedia.canShareScreen,
  maxLength: config.chat.maxLength,
  lang: document.documentElement.lang,
});
ui.loginUrl = config.urls.login;
ui.guest = !!config.me.guest;
const media = new LocalMedia({ video: config.media.video });
const wsUrl = new URL(config.ws, window.location.href);
wsUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
const signaling = new Signaling(wsUrl.href, { heartbeat: config.heartbeat });
const session = new CallSession({
  signaling,
  chat: new Chat({
    name: config.me.name,
    maxLength: config.chat.maxLength,
    history: config.chat.history,
  }),
  tracks: () => media.sending(),
  budget: config.budget,
  name: config.me.name,
  host: config.me.host,
  files: new FileTransfers({ maxBytes: config.files.maxBytes }),
});
ui.follow(session);
const links = new LinkMonitor({ session });
ui.followLinks(links);
ui.followSafety(new SafetyCheck({ session }));
new LinkReporter({ session, signaling });
// Each sender encodes for the size we show it at (encoding.js).
const views = new ViewReporter({ session });
watchTileSizes(document, (id, height) => views.report(id, height));
links.addEventListener("link", (event) => {
  views.send(/** @type {CustomEvent<{participant: {id: string}}>} */ (event).detail.participant.id);
});
const selfStream = new MediaStream();

// --- Local media and devices ----------------------------------------------------

/** @type {Record<Exclude<MediaProblem, null>, string>} */
const MEDIA_PROBLEMS = {
  unsupported: "mediaUnsupported",
  denied: "permissionDenied",
  "no-devices": "noDevices",
  "no-camera": "noCamera",
  "no-microphone": "noMicrophone",
  busy: "deviceBusy",
  failed: "mediaFailed",
};
/** @type {Record<DeviceKind, string>} */
const SWITCH_FAILED = {
  videoinput: "cameraSwitchFailed",
  audioinput: "micSwitchFailed",
  audiooutput: "speakerSwitchFailed",
};
/** The latest device request of each kind: only its outcome is shown. */
const deviceRequests = { videoinput: 0, audioinput: 0, audiooutput: 0 };
let hasCameraDevice = false;
let metering = false;

/** Where device problems are explained. */
const where = () => (session.inCall ? "call" : "prejoin");

function refreshPreview() {
  // Without a microphone the others see this person as muted, and one chosen
  // later starts muted too, as the button says.
  if (!media.audio) media.setMuted(true);
  session.setState({ camera: media.cameraOn, muted: media.muted });
  ui.showPreview(media.preview, {
    camera: media.cameraOn,
    muted: media.muted,
    hasCamera: media.cameraOn || hasCameraDevice,
    hasMic: !!media.audio,
  });
}

/** The devices in use (or chosen, for a camera that is off), for the pickers. */
function selectedDevices() {
  const prefs = loadPrefs();
  return {
    videoinput: media.videoId || prefs.videoinput,
    audioinput: media.audioId || prefs.audioinput,
    audiooutput: ui.sinkId || prefs.audiooutput,
  };
}

async function refreshDevices() {
  const lists = await media.devices();
  hasCameraDevice = lists.videoinput.length > 0;
  ui.setDevices(lists, selectedDevices());
}

/** Run the microphone level meter while it is on screen (pre-join, or the settings). */
function startMeter() {
  if (metering) return;
  metering = true;
  const loop = () => {
    if (session.inCall ? !ui.settingsOpen : session.phase === "ended") {
      metering = false;
      return;
    }
    ui.setLevel(media.level());
    window.requestAnimationFrame(loop);
  };
  window.requestAnimationFrame(loop);
}

function updateSelfStream() {
  const video = media.sending().video;
  for (const track of selfStream.getVideoTracks()) {
    if (track !== video) selfStream.removeTrack(track);
  }
  if (video && !selfStream.getVideoTracks().includes(video)) selfStream.addTrack(video);
  ui.setSelfStream(selfStream);
  ui.setMicAvailable(!!media.audio);
}

/**
 * The first RTCPeerConnection of a page starts WebRTC's threads and codec
 * factories, which costs tens of milliseconds. Pay that during the pre-join
 * screen instead of between Join and the first offer.
 */
function warmUpWebRTC() {
  try {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("audio");
    pc.addTransceiver("video");
    pc.createOffer()
      .catch(() => {})
      .finally(() => pc.close());
  } catch {
    // Nothing to warm up; the real connection will report the problem.
  }
}

async function prepare() {
  if (typeof RTCPeerConnection === "undefined") {
    ui.prejoin.setError(t.webrtcUnsupported);
    return;
  }
  // The socket opens while the person looks at the preview: Join costs one message.
  session.start();
  warmUpWebRTC();
  const prefs = loadPrefs();
  const problem = await media.start({ audioId: prefs.audioinput, videoId: prefs.videoinput });
  if (prefs.audiooutput) ui.setSpeaker(prefs.audiooutput);
  await refreshDevices();
  refreshPreview();
  let notice = problem ? t[MEDIA_PROBLEMS[problem]] : null;
  if (problem && !media.audio && !media.camera) notice = `${notice} ${t.joinReceiveOnly}`;
  ui.prejoin.setMediaNotice(notice);
  if (session.phase === "prejoin") ui.prejoin.setJoinState("ready");
  ui.prejoin.focusJoin();
  startMeter();
}

ui.addEventListener("prejoin-mic", () => {
  media.setMuted(!media.muted);
  refreshPreview();
});

ui.addEventListener("prejoin-camera", async () => {
  const problem = await media.setCameraOn(!media.cameraOn);
  if (problem) ui.prejoin.setMediaNotice(t.cameraFailed);
  refreshPreview();
});

// A device picked on the pre-join screen or in the call's settings. Peers get
// the new track through replaceTrack (media `track` event): no renegotiation.
ui.addEventListener("device", async (event) => {
  const { kind, id } = /** @type {CustomEvent<{kind: DeviceKind, id: string}>} */ (event).detail;
  const request = ++deviceRequests[kind];
  /** @type {MediaProblem} */
  let problem = null;
  if (kind === "videoinput") problem = await media.useCamera(id);
  else if (kind === "audioinput") problem = await media.useMicrophone(id);
  else if (!(await ui.setSpeaker(id))) problem = "failed";
  if (request !== deviceRequests[kind]) return;
  if (problem) {
    // The old device is still in use, unless it could not be opened again.
    const stillOn =
      kind === "audiooutput" || (kind === "videoinput" ? media.cameraOn : !!media.audio);
    ui.deviceProblem(t[stillOn ? SWITCH_FAILED[kind] : MEDIA_PROBLEMS[problem]], where());
  } else {
    savePrefs({ [kind]: id });
    ui.deviceProblem(null, where());
  }
  ui.selectDevices(selectedDevices());
  if (!session.inCall) refreshPreview();
});

media.addEventListener("devices", () => refreshDevices());

media.addEventListener("lost", (event) => {
  const { kind, track } = /** @type {CustomEvent} */ (event).detail;
  let text = t.cameraLost;
  if (kind === "audio") text = track ? format(t.micReplaced, { name: track.label }) : t.micLost;
  if (session.inCall) ui.notify(text, { kind: "warning" });
  else ui.prejoin.setMediaNotice(text);
  refreshDevices();
});

media.addEventListener("track", (event) => {
  const { kind, track } = /** @type {CustomEvent} */ (event).detail;
  session.mesh
    .replaceTrack(kind, track)
    .catch((error) => console.warn("meet: replaceTrack", error));
  if (!session.inCall) {
    if (session.phase !== "ended") refreshPreview();
    return;
  }
  if (kind === "video") updateSelfStream();
  // The camera or microphone went away on its own (unplugged, or a switch
  // that could not reopen the old one): the others must not wait for it.
  if (session.me.camera && !media.cameraOn && !media.screen) session.setState({ camera: false });
  if (!media.audio && !session.me.muted) {
    media.setMuted(true);
    session.setState({ muted: true });
  }
  ui.setMicAvailable(!!media.audio);
});

media.addEventListener("screen", (event) => {
  const { on } = /** @type {CustomEvent<{on: boolean}>} */ (event).detail;
  session.mesh.setScreen(on);
  session.setState({ screen: on });
});

// --- The call ----------------------------------------------------------------------

session.addEventListener("phase", (event) => {
  const { phase, outcome } = /** @type {CustomEvent} */ (event).detail;
  if (phase === "call") {
    updateSelfStream();
  } else if (phase === "refused") {
    refreshPreview();
    startMeter();
  } else if (phase === "ended") {
    media.stop();
    if (outcome && outcome.kind === "login") window.location.assign(config.urls.login);
  }
});

ui.addEventListener("join", () => session.join(ui.displayName || config.me.name));

ui.addEventListener("mic", () => {
  media.setMuted(!session.me.muted);
  session.setState({ muted: media.muted });
});

ui.addEventListener("camera", async () => {
  if (media.cameraOn) {
    await media.setCameraOn(false);
    if (session.me.camera) session.setState({ camera: false });
    return;
  }
  const problem = await media.setCameraOn(true);
  if (problem) ui.notify(t.cameraFailed, { kind: "error" });
  else session.setState({ camera: true });
});

ui.addEventListener("screen", async () => {
  if (media.screen) {
    media.stopScreen();
    return;
  }
  const problem = await media.startScreen();
  // "denied" is the person cancelling the picker: nothing to explain.
  if (problem && problem !== "denied") ui.notify(t.screenFailed, { kind: "error" });
});

ui.addEventListener("hand", () => session.setHand(!session.me.hand));
ui.addEventListener("react", (event) => {
  session.react(/** @type {CustomEvent<{emoji: string}>} */ (event).detail.emoji);
});
ui.addEventListener("lower-hand", (event) => {
  session.lowerHand(/** @type {CustomEvent<{id: string}>} */ (event).detail.id);
});

ui.addEventListener("settings", () => {
  ui.openSettings();
  refreshDevices();
  startMeter();
});

ui.addEventListener("chat-send", (event) => {
  const sent = session.sendChat(/** @type {CustomEvent<{text: string}>} */ (event).detail.text);
  if (sent < 0) return;
  ui.chat.sent();
  if (sent === 0) ui.chat.setHint(t.chatNobody);
});

// Files go to everyone in the call or to one person; each accepts on their own.
ui.addEventListener("file-send", (event) => {
  const { file, to } = /** @type {CustomEvent<{file: File, to: FileTarget}>} */ (event).detail;
  const files = /** @type {FileTransfers} */ (session.files);
  if (to && !session.roster.has(to.id)) {
    ui.files.setNotice(format(t.fileGone, { name: to.name }));
    return;
  }
  try {
    const sent = files.send(file, to ? [to.id] : [...session.roster.keys()]);
    const none = to ? format(t.fileNotReady, { name: to.name }) : t.fileNobody;
    ui.files.setNotice(sent.length ? null : none);
  } catch (error) {
    const tooLarge = error instanceof RangeError && error.message === "too-large";
    const size = formatBytes(config.files.maxBytes, document.documentElement.lang);
    ui.files.setNotice(tooLarge ? format(t.fileTooLarge, { size }) : t.fileEmpty);
  }
});
for (const action of /** @type {const} */ (["accept", "decline", "cancel"])) {
  ui.addEventListener(`file-${action}`, (event) => {
    const { peer, id } = /** @type {CustomEvent<{peer: string, id: string}>} */ (event).detail;
    session.files?.[action](peer, id);
  });
}

ui.addEventListener("retry-pair", (event) => {
  session.retryPair(/** @type {CustomEvent<{id: string}>} */ (event).detail.id);
});
// Kick, mute, mute everyone, end, the lobby; and a host asking us to mute.
followHostRequests({ ui, session, media, t });
ui.addEventListener("leave", () => session.leave());
ui.addEventListener("rejoin", () => window.location.reload());
ui.addEventListener("join-here", () => window.location.reload());

/** @param {boolean} guests */
const copyInvite = (guests) =>
  copyInviteLink({
    url: config.urls.invite,
    csrf: config.csrf,
    guests,
    t,
    notify: (text, options) => ui.notify(text, options),
  });
ui.addEventListener("invite", () => copyInvite(false));
ui.addEventListener("invite-guests", () => copyInvite(true));

window.addEventListener("pagehide", () => {
  if (session.inCall) session.leave();
});
// The network or the page is back: reconnect now rather than at the end of the backoff.
window.addEventListener("online", () => session.retryNow());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") session.retryNow();
});

prepare();
