// Minimal perfect negotiation between this browser and one remote peer
// (the pattern from the WebRTC specification's examples). The server says who
// makes the first offer (`offer`) and who yields in a glare (`polite`).
//
// Stand-in until the call client's own static/js/call/peer.js exists; the bare
// page then imports that module instead, so both pages negotiate identically.

export class Peer {
  constructor({ id, polite, offer, stream, send, onTrack, iceServers = [] }) {
    this.id = id;
    this.polite = polite;
    this.send = send;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.pc = new RTCPeerConnection({ iceServers });
    this.chat = null;
    this.pc.ontrack = ({ track, streams }) => onTrack(this, track, streams[0]);
    this.pc.onicecandidate = ({ candidate }) =>
      this.send({ type: "candidate", to: this.id, candidate: candidate ? candidate.toJSON() : null });
    this.pc.oniceconnectionstatechange = () => {
      const state = this.pc.iceConnectionState;
      if (state === "connected" || state === "completed") {
        mark(`meet:ice-connected:${this.id}`, true);
      }
    };
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.send({ type: "offer", to: this.id, sdp: this.pc.localDescription.sdp });
        mark(`meet:offer-sent:${this.id}`, true);
      } finally {
        this.makingOffer = false;
      }
    };
    // The side that makes the first offer adds its tracks and the chat
    // channel now, which fires negotiationneeded. The other side adds them
    // only when that offer arrives, so its answer carries them: done earlier,
    // they would fire negotiationneeded there too, and the two offers would
    // collide (glare), costing a rollback and a second round trip.
    this.stream = stream;
    this.ready = false;
    if (offer) this.setUp();
  }

  setUp() {
    if (this.ready) return;
    this.ready = true;
    for (const track of this.stream.getTracks()) this.pc.addTrack(track, this.stream);
    this.chat = this.pc.createDataChannel("chat", { negotiated: true, id: 0 });
  }

  async onDescription(type, sdp) {
    if (type === "answer") mark(`meet:answer:${this.id}`, true);
    const collision = type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    await this.pc.setRemoteDescription({ type, sdp });
    if (type === "offer") {
      this.setUp();
      await this.pc.setLocalDescription();
      this.send({ type: "answer", to: this.id, sdp: this.pc.localDescription.sdp });
    }
  }

  async onCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!this.ignoreOffer) throw err;
    }
  }

  close() {
    this.pc.close();
  }
}

const marked = new Set();
export function mark(name, once = false) {
  if (once) {
    if (marked.has(name)) return;
    marked.add(name);
  }
  performance.mark(name);
}
