// The bare call page: the call client's own DOM-free modules (signaling.js,
// mesh.js with peer.js, media.js, served from static/js/call/) with the least
// glue that makes a call, and nothing else: no Django, no UI, no chat, no
// call session (a plain map of pairs stands in for its roster).
//
// It follows the call page's sequence (static/js/call/main.js, session.js): the camera,
// the signaling socket and a throw-away RTCPeerConnection are started while
// the pre-join screen shows; Join sends one `join`; on `welcome` every
// connection is started before any DOM work. It emits the same performance
// marks (docs/call.md).

import { LocalMedia } from "/static/js/call/media.js";
import { Mesh } from "/static/js/call/mesh.js";
import { Signaling } from "/static/js/call/signaling.js";

const params = new URLSearchParams(location.search);
const room = params.get("room") || "bench";
const [width, height, fps] = (params.get("video") || "1280x720@30").split(/[x@]/).map(Number);
const budget = {
  videoKbps: Number(params.get("budget") || "2500"),
  perPeerMaxKbps: Number(params.get("perPeerMax") || "1500"),
};
const button = document.getElementById("join");
const status = document.getElementById("status");
const videos = document.getElementById("videos");

const media = new LocalMedia({
  video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: fps } },
});
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const signaling = new Signaling(`${scheme}//${location.host}/ws/rooms/${encodeURIComponent(room)}/`);
const pairs = new Map();
const mesh = new Mesh({
  send: (message) => signaling.send(message),
  tracks: () => media.sending(),
  budget,
  pairs: () => pairs.values(),
});
let joinRequested = false;

function warmUpWebRTC() {
  // As the call page does: the first RTCPeerConnection of a page starts
  // WebRTC's threads and codec factories; pay that before Join.
  const pc = new RTCPeerConnection();
  pc.addTransceiver("audio");
  pc.addTransceiver("video");
  pc.createOffer()
    .catch(() => {})
    .finally(() => pc.close());
}

function sendJoin() {
  signaling.send({ type: "join", name: "bare", state: { muted: false, camera: true } });
  performance.mark("meet:join-sent");
}

signaling.addEventListener("open", () => {
  if (joinRequested) sendJoin();
});

function connect(info) {
  const peer = mesh.connect(info);
  pairs.set(info.peer, peer);
  peer.addEventListener("stream", ({ detail: { stream } }) => show(info.peer, stream));
  return peer;
}

function disconnect(id) {
  pairs.get(id)?.close();
  pairs.delete(id);
  mesh.applyBudget();
}

signaling.addEventListener("message", ({ detail: message }) => {
  switch (message.type) {
    case "welcome":
      performance.mark("meet:welcome");
      mesh.setIce(message.ice || null);
      for (const peer of message.peers) connect(peer);
      mesh.applyBudget();
      status.textContent = `in call as ${message.peer}`;
      break;
    case "peer-joined":
      connect(message.peer);
      mesh.applyBudget();
      break;
    case "peer-left":
      disconnect(message.peer);
      document.getElementById(`v-${message.peer}`)?.remove();
      break;
    case "offer":
    case "answer":
    case "candidate":
      pairs.get(message.from)?.handle(message);
      break;
    default:
      break;
  }
});

function show(id, stream) {
  let video = document.getElementById(`v-${id}`);
  if (!video) {
    video = document.createElement("video");
    video.id = `v-${id}`;
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    videos.append(video);
    const mark = () => performance.mark(`meet:first-frame:${id}`);
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(mark);
  }
  if (video.srcObject !== stream) video.srcObject = stream;
}

button.addEventListener("click", () => {
  performance.mark("meet:join-click");
  joinRequested = true;
  button.disabled = true;
  if (signaling.isOpen) sendJoin();
  else signaling.connect();
});

async function prepare() {
  signaling.connect();
  warmUpWebRTC();
  const problem = await media.start();
  document.getElementById("local").srcObject = media.preview;
  status.textContent = problem ? `media: ${problem}` : "ready";
  button.disabled = false;
}

prepare();
