// A bare Socket.IO signaling relay, written the way common WebRTC tutorials
// write theirs: rooms by name, offer/answer/candidate forwarded to the
// addressed socket, no authentication, no validation, no rate limit.
//
// It speaks the same message shapes as meet's protocol (join -> welcome,
// peer-joined, addressed offer/answer/candidate delivered with `from`,
// peer-left), one Socket.IO event per message type, so that
// bench/signaling_load.py can drive it with the same traffic.
//
//   node relay.js --port 9000 [--host 127.0.0.1]

"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(arg("port", "9000"));
const host = arg("host", "127.0.0.1");

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(server, {
  // Tutorials keep the defaults; the load client connects with the
  // websocket transport straight away (no long-polling upgrade).
  serveClient: false,
  perMessageDeflate: false,
});

// room name -> Map(socket id -> peer record), the only state.
const rooms = new Map();

io.on("connection", (socket) => {
  let room = null;

  socket.on("join", (msg) => {
    if (room !== null) return;
    room = String((msg && msg.room) || "default");
    let members = rooms.get(room);
    if (!members) {
      members = new Map();
      rooms.set(room, members);
    }
    const me = { peer: socket.id, name: (msg && msg.name) || "" };
    const peers = [];
    for (const other of members.values()) {
      peers.push({ ...other, offer: true, polite: socket.id < other.peer });
    }
    members.set(socket.id, me);
    socket.join(room);
    socket.emit("welcome", { type: "welcome", peer: socket.id, peers, heartbeat: 10 });
    for (const other of members.values()) {
      if (other.peer === socket.id) continue;
      io.to(other.peer).emit("peer-joined", {
        type: "peer-joined",
        peer: { ...me, offer: false, polite: other.peer < socket.id },
      });
    }
  });

  for (const type of ["offer", "answer", "candidate"]) {
    socket.on(type, (msg) => {
      if (room === null || !msg) return;
      const out = { ...msg, type, from: socket.id };
      delete out.to;
      if (msg.to) io.to(msg.to).emit(type, out);
      else socket.to(room).emit(type, out);
    });
  }

  socket.on("ping", () => socket.emit("pong", { type: "pong" }));

  socket.on("disconnect", () => {
    if (room === null) return;
    const members = rooms.get(room);
    if (members) {
      members.delete(socket.id);
      if (members.size === 0) rooms.delete(room);
    }
    socket.to(room).emit("peer-left", { type: "peer-left", peer: socket.id, reason: "left" });
  });
});

server.listen(port, host, () => {
  console.log(`socket.io relay on http://${host}:${port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
