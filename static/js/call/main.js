/**
 * Entry point of the call page: reads the configuration Django rendered with
 * `json_script`, and wires signaling, media, the mesh, chat and the UI.
 *
 * Performance marks (docs/call.md): meet:join-click, meet:ws-open,
 * meet:join-sent, meet:welcome, meet:offer-sent:<peer>, meet:answer:<peer>
 * (or meet:answer-sent:<peer> on the answering side),
 * meet:ice-connected:<peer>, meet:first-frame:<peer>.
 * @module
 */

import { Chat } from "./chat.js";
import { LocalMedia } from "./media.js";
import { Mesh } from "./mesh.js";
import { Signaling } from "./signaling.js";
import { CallUI, format } from "./ui.js";

const PREFS_KEY = "meet.call.devices";
const SELF = "self";

const config = JSON.parse(document.getElementById("call-config").textContent);
const t = config.strings;

/** What the person chose and what we tell the others. */
const me = { muted: false, camera: true, screen: false, hand: false };
let phase = "prejoin"; // prejoin → call → ended
let joinRequested = false;
let joinedOnce = false;
let chatOpen = false;
let unread = 0;
/** @type {Map<string, {name: string, host: boolean, state: object}>} */
const participants = new Map();

const ui = new CallUI(document, t, {
  host: config.me.host,
  canShare: LocalMedia.canShareScreen,
  maxLength: config.chat.maxLength,
  lang: document.documentElement.lang,
});
const media = new LocalMedia({ video: config.media.video });
const chat = new Chat({
  name: config.me.name,
  maxLength: config.chat.maxLength,
  history: config.chat.history,
});
const wsUrl = new URL(config.ws, window.location.href);
wsUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
const signaling = new Signaling(wsUrl.href, { heartbeat: config.heartbeat });
const mesh = new Mesh({
  send: (message) => signaling.send(message),
  tracks: () => media.sending(),
  budget: config.budget,
});
const selfStream = new MediaStream();

// --- Preferences ----------------------------------------------------------------

function loadPrefs() {
  try {
    return JSON.parse(window.localStorage.getItem(PREFS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function savePrefs(changes) {
  try {
    window.localStorage.setItem(PREFS_KEY, JSON.stringify({ ...loadPrefs(), ...changes }));
  } catch {
    // Private browsing without storage: choices are simply not remembered.
  }
}

// --- Pre-join -------------------------------------------------------------------------

const MEDIA_PROBLEMS = {
  unsupported: "mediaUnsupported",
  denied: "permissionDenied",
  "no-devices": "noDevices",
  "no-camera": "noCamera",
  "no-microphone": "noMicrophone",
  busy: "deviceBusy",
  failed: "mediaFailed",
};

function refreshPreview() {
  me.camera = media.cameraOn;
  // Without a microphone the others see this person as muted, and one chosen
  // later starts muted too, as the button says.
  if (!media.audio) {
    me.muted = true;
    media.setMuted(true);
  }
  ui.showPreview(media.preview, {
    camera: me.camera,
    muted: me.muted,
    hasCamera: media.cameraOn || hasCameraDevice,
    hasMic: !!media.audio,
  });
}

let hasCameraDevice = false;

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

let metering = false;

/** Run the microphone level meter while it is on screen (pre-join, or the settings). */
function startMeter() {
  if (metering) return;
  metering = true;
  window.requestAnimationFrame(meterLoop);
}

function meterLoop() {
  if (phase !== "prejoin" && !ui.settingsOpen) {
    metering = false;
    return;
  }
  ui.setLevel(media.level());
  window.requestAnimationFrame(meterLoop);
}

async function prepare() {
  if (typeof RTCPeerConnection === "undefined") {
    ui.setPrejoinError(t.webrtcUnsupported);
    return;
  }
  // Open the signaling socket while the person looks at the preview, so
  // pressing Join costs one message, not a TCP + WebSocket handshake.
  signaling.connect();
  warmUpWebRTC();
  const prefs = loadPrefs();
  const problem = await media.start({ audioId: prefs.audioinput, videoId: prefs.videoinput });
  if (prefs.audiooutput) ui.setSpeaker(prefs.audiooutput);
  await refreshDevices();
  refreshPreview();
  let notice = problem ? t[MEDIA_PROBLEMS[problem]] : null;
  if (problem && !media.audio && !media.camera) notice = `${notice} ${t.joinReceiveOnly}`;
  ui.setMediaNotice(notice);
  if (phase === "prejoin") ui.setJoinState("ready");
  ui.focusJoin();
  startMeter();
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

ui.addEventListener("prejoin-mic", () => {
  me.muted = !me.muted;
  media.setMuted(me.muted);
  refreshPreview();
});

ui.addEventListener("prejoin-camera", async () => {
  const problem = await media.setCameraOn(!media.cameraOn);
  if (problem) ui.setMediaNotice(t.cameraFailed);
  refreshPreview();
});

const SWITCH_FAILED = {
  videoinput: "cameraSwitchFailed",
  audioinput: "micSwitchFailed",
  audiooutput: "speakerSwitchFailed",
};
/** The latest device request of each kind: only its outcome is shown. */
const deviceRequests = { videoinput: 0, audioinput: 0, audiooutput: 0 };

// A device picked on the pre-join screen or in the call's settings. Peers get
// the new track through replaceTrack (media `track` event): no renegotiation.
ui.addEventListener("device", async ({ detail: { kind, id } }) => {
  const request = ++deviceRequests[kind];
  let problem = null;
  if (kind === "videoinput") problem = await media.useCamera(id);
  else if (kind === "audioinput") problem = await media.useMicrophone(id);
  else if (!(await ui.setSpeaker(id))) problem = "failed";
  if (request !== deviceRequests[kind]) return;
  if (problem) {
    // The old device is still in use, unless it could not be opened again.
    const stillOn =
      kind === "audiooutput" || (kind === "videoinput" ? media.cameraOn : !!media.audio);
    const key = stillOn ? SWITCH_FAILED[kind] : MEDIA_PROBLEMS[problem];
    showDeviceProblem(t[key]);
  } else {
    savePrefs({ [kind]: id });
    showDeviceProblem(null);
  }
  ui.selectDevices(selectedDevices());
  if (phase === "prejoin") refreshPreview();
  else if (phase === "call") updateControls();
});

/**
 * Explain a device problem where the person is looking (null clears it).
 * @param {string|null} text
 */
function showDeviceProblem(text) {
  if (phase === "prejoin") ui.setMediaNotice(text);
  else if (ui.settingsOpen) ui.setSettingsError(text);
  else if (text) ui.banner(text, { kind: "error" });
}

media.addEventListener("devices", () => {
  refreshDevices();
});

media.addEventListener("lost", ({ detail: { kind, track } }) => {
  let text = t.cameraLost;
  if (kind === "audio") text = track ? format(t.micReplaced, { name: track.label }) : t.micLost;
  if (phase === "prejoin") ui.setMediaNotice(text);
  else if (phase === "call") ui.banner(text, { kind: "warning" });
  refreshDevices();
});

function requestJoin() {
  performance.mark("meet:join-click");
  joinRequested = true;
  ui.setPrejoinError(null);
  ui.setJoinState("joining");
  if (signaling.isOpen) sendJoin();
  else if (signaling.stopped) signaling.restart();
  else signaling.connect();
}

function sendJoin() {
  const name = ui.displayName || config.me.name;
  chat.name = name;
  signaling.send({ type: "join", name, state: { ...me } });
  performance.mark("meet:join-sent");
}

ui.addEventListener("join", requestJoin);
ui.addEventListener("retry", requestJoin);

// --- Signaling ----------------------------------------------------------------------------

signaling.addEventListener("open", () => {
  if (joinRequested) sendJoin();
});

signaling.addEventListener("reconnecting", () => {
  // Before Join the server closes idle sockets (4408); reconnect silently.
  if (phase === "call") ui.banner(t.reconnecting, { kind: "warning", sticky: true });
});

signaling.addEventListener("message", ({ detail: message }) => {
  switch (message.type) {
    case "welcome":
      onWelcome(message);
      break;
    case "peer-joined":
      addParticipant(message.peer);
      ui.banner(format(t.peerJoined, { name: message.peer.name }));
      break;
    case "peer-left":
      removeParticipant(message.peer, message.reason);
      break;
    case "peer-state": {
      const participant = participants.get(message.peer);
      if (participant) participant.state = message.state;
      ui.setTileMedia(message.peer, message.state);
      break;
    }
    case "offer":
    case "answer":
    case "candidate":
      mesh.signal(message);
      break;
    case "ice-servers":
      mesh.setIce(message.ice);
      break;
    case "error":
      console.warn(`meet: server error ${message.code}: ${message.message}`);
      break;
    default:
      break;
  }
});

function onWelcome(message) {
  performance.mark("meet:welcome");
  mesh.setIce(message.ice);
  if (joinedOnce) {
    // A new socket means a new peer id: every pair is negotiated afresh.
    mesh.clear();
    participants.clear();
  }
  // Connections first, so every offer is under way before any DOM work.
  for (const peer of message.peers) mesh.add(peer);
  if (joinedOnce) {
    ui.clearTiles({ keepSelf: true });
    ui.hideBanner("warning");
    ui.banner(t.reconnected);
  } else {
    enterCall(message);
  }
  for (const peer of message.peers) addParticipant(peer, { connect: false });
  joinedOnce = true;
}

function enterCall(message) {
  phase = "call";
  chat.name = message.name;
  ui.enterCall();
  ui.addTile(SELF, { name: message.name, host: message.host, state: me });
  updateSelfStream();
  updateControls();
}

function addParticipant(info, { connect = true } = {}) {
  participants.set(info.peer, { name: info.name, host: info.host, state: info.state });
  ui.addTile(info.peer, info);
  if (connect) mesh.add(info);
  else {
    // The stream may have arrived before the tile existed.
    const peer = mesh.peers.get(info.peer);
    if (peer && peer.remoteStream.getTracks().length) ui.setTileStream(info.peer, peer.remoteStream);
  }
}

function removeParticipant(id, reason) {
  const participant = participants.get(id);
  participants.delete(id);
  mesh.remove(id);
  ui.removeTile(id);
  if (participant && reason !== "replaced") {
    const key = reason === "kicked" ? "peerKicked" : "peerLeft";
    ui.banner(format(t[key], { name: participant.name }));
  }
}

const CLOSE_MESSAGES = {
  4000: "closedKicked",
  4001: "closedReplaced",
  4003: "closedOrigin",
  4400: "closedProtocol",
  4401: "closedLoggedOut",
  4403: "closedNotMember",
  4404: "closedNoRoom",
  4410: "closedEnded",
  4413: "closedTooLarge",
  4429: "closedFlooding",
};

signaling.addEventListener("closed", ({ detail: { code } }) => {
  if (code === 1000) return;
  if (code === 4409 || code === 4423) {
    // Full or locked: the person may try again from the pre-join screen.
    joinRequested = false;
    if (phase === "call") {
      mesh.clear();
      participants.clear();
      phase = "prejoin";
      joinedOnce = false;
      ui.backToPrejoin(media.preview);
      refreshPreview();
      startMeter();
    }
    ui.setPrejoinError(code === 4409 ? t.closedFull : t.closedLocked, { retry: true });
    ui.setJoinState("ready");
    return;
  }
  if (code === 4401 && phase === "prejoin") {
    window.location.assign(config.urls.login);
    return;
  }
  finish(t[CLOSE_MESSAGES[code] || "closedUnknown"], {
    joinHere: code === 4001,
    login: code === 4401 ? config.urls.login : "",
    rejoin: !(code in CLOSE_MESSAGES) || code === 4400 || code === 4413 || code === 4429,
  });
});

/** End the call on this page: close connections, release the camera, show why. */
function finish(text, actions) {
  phase = "ended";
  mesh.close();
  media.stop();
  participants.clear();
  ui.showEnded(text, actions);
}

ui.addEventListener("rejoin", () => window.location.reload());
ui.addEventListener("join-here", () => window.location.reload());

// --- In the call ------------------------------------------------------------------------

function sendState(changes) {
  Object.assign(me, changes);
  signaling.send({ type: "state", state: changes });
  ui.setTileMedia(SELF, me);
  updateControls();
}

function updateControls() {
  ui.setControls({
    ...me,
    chat: chatOpen,
    micAvailable: !!media.audio,
  });
}

function updateSelfStream() {
  const video = media.sending().video;
  for (const track of selfStream.getVideoTracks()) {
    if (track !== video) selfStream.removeTrack(track);
  }
  if (video && !selfStream.getVideoTracks().includes(video)) selfStream.addTrack(video);
  ui.setTileStream(SELF, selfStream);
}

media.addEventListener("track", ({ detail: { kind, track } }) => {
  mesh.replaceTrack(kind, track).catch((error) => console.warn("meet: replaceTrack", error));
  if (phase === "prejoin") {
    refreshPreview();
    return;
  }
  if (phase !== "call") return;
  if (kind === "video") updateSelfStream();
  // The camera or microphone went away on its own (unplugged, or a switch
  // that could not reopen the old one): the others must not wait for it.
  if (me.camera && !media.cameraOn && !media.screen) sendState({ camera: false });
  if (!media.audio && !me.muted) {
    media.setMuted(true);
    sendState({ muted: true });
  }
  updateControls();
});

media.addEventListener("screen", ({ detail: { on } }) => {
  mesh.setScreen(on);
  sendState({ screen: on });
});

ui.addEventListener("mic", () => {
  media.setMuted(!me.muted);
  sendState({ muted: !me.muted });
});

ui.addEventListener("camera", async () => {
  if (media.cameraOn) {
    await media.setCameraOn(false);
    if (me.camera) sendState({ camera: false });
    return;
  }
  const problem = await media.setCameraOn(true);
  if (problem) {
    ui.banner(t.cameraFailed, { kind: "error" });
    return;
  }
  sendState({ camera: true });
});

ui.addEventListener("screen", async () => {
  if (media.screen) {
    media.stopScreen();
    return;
  }
  const problem = await media.startScreen();
  // "denied" is the person cancelling the picker: nothing to explain.
  if (problem && problem !== "denied") ui.banner(t.screenFailed, { kind: "error" });
});

ui.addEventListener("hand", () => sendState({ hand: !me.hand }));

ui.addEventListener("settings", () => {
  ui.openSettings();
  refreshDevices();
  startMeter();
});

ui.addEventListener("unlock-audio", () => ui.unlockAudio());

ui.addEventListener("leave", () => {
  signaling.leave();
  finish(t.left, { rejoin: true });
});

ui.addEventListener("end", () => signaling.send({ type: "end" }));

ui.addEventListener("kick", ({ detail: { id } }) => signaling.send({ type: "kick", peer: id }));

ui.addEventListener("invite", async () => {
  let url;
  try {
    const response = await fetch(config.urls.invite, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrf, Accept: "application/json" },
    });
    const body = await response.json();
    if (!response.ok) {
      ui.banner(body.error || t.inviteFailed, { kind: "error" });
      return;
    }
    url = body.url;
  } catch {
    ui.banner(t.inviteFailed, { kind: "error" });
    return;
  }
  try {
    await navigator.clipboard.writeText(url);
    ui.banner(t.inviteCopied);
  } catch {
    // No clipboard access (permission, or not a secure context): show it to copy by hand.
    window.prompt(t.inviteShow, url);
  }
});

window.addEventListener("pagehide", () => {
  if (phase === "call") signaling.leave();
});

// --- Connections -------------------------------------------------------------------------

mesh.addEventListener("peer-stream", ({ detail: { id, stream } }) => ui.setTileStream(id, stream));

mesh.addEventListener("peer-state", ({ detail: { id, state } }) => {
  ui.setTileConnection(id, state);
  if (state === "failed") {
    const participant = participants.get(id);
    if (mesh.relayOnly) ui.banner(t.relayUnreachable, { kind: "error", sticky: true });
    else if (participant) ui.banner(format(t.peerFailed, { name: participant.name }), { kind: "error" });
  } else if (state === "connected") {
    ui.hideBanner("error");
  }
});

mesh.addEventListener("ice-error", ({ detail }) => {
  // 401: the TURN server refused our credentials. With relay-only, any TURN
  // error means there is no path at all. Other ICE errors (an unreachable
  // STUN server on a LAN call) are harmless.
  const turn = typeof detail.url === "string" && detail.url.startsWith("turn");
  if (turn && (detail.errorCode === 401 || mesh.relayOnly)) {
    console.warn(`meet: TURN error ${detail.errorCode} ${detail.errorText} (${detail.url})`);
    ui.banner(t.relayUnreachable, { kind: "error", sticky: true });
  }
});

// --- Chat -----------------------------------------------------------------------------------

mesh.addEventListener("channel-open", ({ detail: { id } }) => {
  const peer = mesh.peers.get(id);
  if (peer && peer.joinedAfterUs && chat.messages.length > 0) {
    mesh.sendTo(id, JSON.stringify(chat.history()));
  }
});

mesh.addEventListener("channel-message", ({ detail: { data } }) => chat.receive(data));

chat.addEventListener("message", ({ detail: { message, index } }) => {
  ui.addChatMessage(message, index);
  if (!chatOpen && !message.mine) {
    unread += 1;
    ui.setUnread(unread);
  }
});

ui.addEventListener("chat-toggle", () => {
  chatOpen = !chatOpen;
  if (chatOpen) {
    unread = 0;
    ui.setUnread(0);
  }
  updateControls();
});

ui.addEventListener("chat-send", ({ detail: { text } }) => {
  let message;
  try {
    message = chat.compose(text);
  } catch {
    return;
  }
  const sent = mesh.broadcast(JSON.stringify(message));
  ui.chatSent();
  if (sent === 0) ui.chatHint(t.chatNobody);
});

prepare();
