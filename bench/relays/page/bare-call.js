// The bare call page: join a room on the bare relay, negotiate with every
// peer, show their video. It emits the same performance marks as meet's call
// client (meet:join-click, meet:media, meet:ws-open, meet:welcome,
// meet:offer-sent:<peer>, meet:answer:<peer>, meet:ice-connected:<peer>).

import { Peer, mark } from "./peer.js";

const params = new URLSearchParams(location.search);
const room = params.get("room") || "bench";
const [width, height, fps] = (params.get("video") || "1280x720@30").split(/[x@]/).map(Number);
const budgetKbps = Number(params.get("budget") || "2500");
const button = document.getElementById("join");
const status = document.getElementById("status");
const videos = document.getElementById("videos");
const peers = new Map();
let ws = null;

function send(msg) {
  ws.send(JSON.stringify(msg));
}

function onTrack(peer, track, stream) {
  let video = document.getElementById(`v-${peer.id}`);
  if (!video) {
    video = document.createElement("video");
    video.id = `v-${peer.id}`;
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    videos.append(video);
  }
  video.srcObject = stream || new MediaStream([track]);
}

// Outgoing video budget per sender, divided among the peers it sends to.
async function applyBudget() {
  if (!budgetKbps || peers.size === 0) return;
  const each = Math.floor((budgetKbps * 1000) / peers.size);
  for (const peer of peers.values()) {
    for (const sender of peer.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== "video") continue;
      const p = sender.getParameters();
      if (!p.encodings || !p.encodings.length) continue;
      p.encodings[0].maxBitrate = each;
      await sender.setParameters(p).catch(() => {});
    }
  }
}

function addPeer(info, stream) {
  const peer = new Peer({
    id: info.peer,
    polite: info.polite,
    offer: info.offer,
    stream,
    send,
    onTrack,
  });
  peers.set(info.peer, peer);
  peer.pc.addEventListener("connectionstatechange", () => {
    if (peer.pc.connectionState === "connected") applyBudget();
  });
  return peer;
}

function removePeer(id) {
  const peer = peers.get(id);
  if (!peer) return;
  peer.close();
  peers.delete(id);
  document.getElementById(`v-${id}`)?.remove();
  applyBudget();
}

async function join() {
  mark("meet:join-click");
  button.disabled = true;
  const media = navigator.mediaDevices
    .getUserMedia({ audio: true, video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: fps } } })
    .then((stream) => {
      mark("meet:media");
      document.getElementById("local").srcObject = stream;
      return stream;
    });
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws/rooms/${encodeURIComponent(room)}/`);
  ws.onopen = () => {
    mark("meet:ws-open");
    send({ type: "join", name: "bare" });
  };
  // One message at a time, in order, even across awaits.
  let chain = Promise.resolve();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    chain = chain.then(() => handle(msg, media)).catch((err) => console.error(err));
  };
  setInterval(() => ws.readyState === WebSocket.OPEN && send({ type: "ping" }), 10000);
}

async function handle(msg, media) {
    switch (msg.type) {
      case "welcome": {
        mark("meet:welcome");
        status.textContent = `in call as ${msg.peer}`;
        const stream = await media;
        for (const info of msg.peers) addPeer(info, stream);
        break;
      }
      case "peer-joined":
        addPeer(msg.peer, await media);
        break;
      case "peer-left":
        removePeer(msg.peer);
        break;
      case "offer":
      case "answer":
        await peers.get(msg.from)?.onDescription(msg.type, msg.sdp);
        break;
      case "candidate":
        await peers.get(msg.from)?.onCandidate(msg.candidate);
        break;
      default:
        break;
    }
}

button.addEventListener("click", join);
button.disabled = false;
status.textContent = "ready";
