"""Signaling throughput, latency and capacity: meet against two bare relays.

    python bench/signaling_load.py --targets meet-memory,bare-python,bare-node --reps 3

For each repetition and each target it starts the server(s) afresh on free
loopback ports (pinned with taskset to ``--server-cpus``; this process pins
itself to ``--client-cpus``), then runs these phases, each on its own
connections:

``idle``      K sockets joined in rooms, heartbeats running, nothing else:
              server RSS growth per socket and the CPU the heartbeats cost.
``storm``     N sockets connect and join at the same moment: connect -> welcome.
``fixed``     open-loop offer/answer/candidate traffic at ``--rate`` messages/s
              across rooms of ``--size``: one-way relay latency p50/p99 from
              each message's real send time (and, as ``from_schedule_*``,
              from its scheduled send time, which counts a late client
              against the result: no coordinated omission), throughput, CPU.
``saturate``  closed loop: every connection sends as soon as it may, with at
              most ``--window`` messages in flight and at most
              ``--per-conn-rate`` messages/s: delivered messages/s (capacity)
              and the latency at that load.

Every message carries a timestamp inside the relayed payload (a marker line in
the SDP, a marker token in the candidate string): the receiver, in this same
process, computes the one-way relay latency on one clock.

meet limits every connection to ``RATE`` = 50 messages/s (bursts of 200):
the load client never sends more than ``--per-conn-rate`` (40) messages/s on
one connection and opens as many connections as the offered rate needs. The
bare relays get exactly the same connections and traffic.

Results go to bench/results/signaling-*.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import itertools
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import benchlib
from benchlib import (
    BareRelay,
    CpuMeter,
    NodeRelay,
    PinnedDaphne,
    PinnedRedis,
    PinnedUvicorn,
    fmt_spread,
    markdown_table,
    percentile,
    rss_bytes,
    spread,
)
from sdp_samples import ANSWER_SDP, CANDIDATE, OFFER_SDP, with_marker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TARGETS: dict[str, dict] = {
    "meet-memory": {"kind": "meet", "layer": None, "procs": 1},
    "meet-memory-uvicorn": {"kind": "meet", "layer": None, "procs": 1, "server": "uvicorn"},
    "meet-redis-core": {"kind": "meet", "layer": "core", "procs": 1},
    "meet-redis-pubsub": {"kind": "meet", "layer": "pubsub", "procs": 1},
    "meet-redis-core-2proc": {"kind": "meet", "layer": "core", "procs": 2},
    "meet-redis-pubsub-2proc": {"kind": "meet", "layer": "pubsub", "procs": 2},
    "meet-redis-pubsub-uvicorn": {
        "kind": "meet",
        "layer": "pubsub",
        "procs": 1,
        "server": "uvicorn",
    },
    "bare-python": {"kind": "bare-python", "procs": 1},
    "bare-node": {"kind": "bare-node", "procs": 1},
}
ALIASES = {"meet-redis-2proc": "meet-redis-core-2proc", "meet-redis": "meet-redis-core"}
PHASES = ("idle", "storm", "fixed", "saturate", "unicast")
# One negotiation between two peers is an offer, an answer and a few trickled
# candidates each way: 8 candidates in 10 messages.
KIND_CYCLE = ("offer", "answer", *["candidate"] * 8)
# The unicast phase sends nothing but (padded, about 1 KB) candidates.
UNICAST_CYCLE = ("candidate-1k",)
MARK = "x-bench:"
# Pads the unicast phase's candidate frame to about 1 KB on the wire.
CANDIDATE_1K_PAD = 800
BMARK = MARK.encode()
NS = 1_000_000_000


def now_ns() -> int:
    return time.monotonic_ns()


# --- one measured phase -----------------------------------------------------------------


@dataclass
class Phase:
    name: str
    measuring: bool = False
    sent: int = 0
    delivered: int = 0
    measured_delivered: int = 0
    latencies: array = field(default_factory=lambda: array("q"))
    sched_latencies: array = field(default_factory=lambda: array("q"))
    send_lag: array = field(default_factory=lambda: array("q"))
    errors: Counter = field(default_factory=Counter)


class Run:
    """State shared by every client of one target in one repetition."""

    def __init__(self) -> None:
        self.phase = Phase("setup")
        self.clients: list[Client] = []


# --- one WebSocket participant ----------------------------------------------------------------


class Client:
    """One participant: a WebSocket that joins a room and relays bench traffic.

    ``proto`` is ``json`` (meet and the bare Python relay: one JSON object per
    frame) or ``sio`` (Socket.IO v5 over Engine.IO v4, websocket transport,
    spoken directly so that the client costs the same for every target).
    """

    def __init__(
        self,
        run: Run,
        proto: str,
        url: str,
        room: str,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> None:
        self.run = run
        self.index = len(run.clients)
        run.clients.append(self)
        self.proto = proto
        self.url = url
        self.room = room
        self.headers = headers or {}
        self.origin = origin
        self.ws: ClientConnection | None = None
        self.peer: str | None = None
        self.welcome: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sio_ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.inflight = 0
        self.credit: asyncio.Event | None = None  # closed loop: set when a message lands
        self.heartbeat = 10.0
        self.close_code: int | None = None
        self.tasks: list[asyncio.Task] = []

    async def open(self) -> None:
        self.ws = await connect(
            self.url,
            additional_headers=self.headers,
            origin=self.origin,  # type: ignore[arg-type]
            compression=None,
            ping_interval=None,
            max_size=2**20,
            open_timeout=60,
            close_timeout=2,
        )
        self.tasks.append(asyncio.create_task(self._reader()))
        if self.proto == "sio":
            await self.ws.send("40")
            await asyncio.wait_for(self.sio_ready, 30)

    async def join(self, wait: float = 60) -> None:
        assert self.ws is not None
        if self.proto == "sio":
            await self.ws.send(
                '42["join",' + json.dumps({"type": "join", "room": self.room, "name": "b"}) + "]"
            )
        else:
            await self.ws.send('{"type":"join","name":"bench"}')
        done, _ = await asyncio.wait({self.welcome}, timeout=wait)
        if not done:
            raise TimeoutError(f"no welcome (close code {self.close_code})")
        self.welcome.result()

    def start_heartbeat(self) -> None:
        if self.proto == "json":
            self.tasks.append(asyncio.create_task(self._heartbeat()))
        # Socket.IO: the server pings (Engine.IO, every 25 s) and _reader answers.

    async def _heartbeat(self) -> None:
        await asyncio.sleep(random.uniform(0, self.heartbeat))
        while True:
            with contextlib.suppress(ConnectionClosed):
                await self.ws.send('{"type":"ping"}')  # type: ignore[union-attr]
            await asyncio.sleep(self.heartbeat)

    async def _reader(self) -> None:
        ws = self.ws
        assert ws is not None
        run = self.run
        clients = run.clients
        recv = ws.recv
        try:
            while True:
                # Bytes, not str: finding the marker needs no UTF-8 decoding.
                raw = await recv(decode=False)
                at = raw.find(BMARK)
                if at >= 0:
                    end = raw.find(b";", at)
                    sender, sched, sent = raw[at + 8 : end].split(b":")
                    phase = run.phase
                    phase.delivered += 1
                    origin = clients[int(sender)]
                    origin.inflight -= 1
                    if origin.credit is not None:
                        origin.credit.set()
                    if phase.measuring:
                        received = now_ns()
                        phase.measured_delivered += 1
                        phase.latencies.append(received - int(sent))
                        phase.sched_latencies.append(received - int(sched))
                    continue
                self._control(raw.decode())
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            for future in (self.welcome, self.sio_ready):
                if not future.done():
                    future.set_exception(ConnectionError(f"closed with {ws.close_code}"))
                    future.exception()  # a waiter still gets it; nobody else logs it

    def _control(self, raw: str) -> None:
        if self.proto == "sio":
            if raw == "2":  # Engine.IO ping
                pong = asyncio.ensure_future(self.ws.send("3"))  # type: ignore[union-attr]
                self.tasks.append(pong)
                return
            if raw.startswith("40"):
                if not self.sio_ready.done():
                    self.sio_ready.set_result(None)
                return
            if not raw.startswith("42"):
                return
            event, msg = json.loads(raw[2:])
            msg.setdefault("type", event)
        else:
            msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "welcome" and not self.welcome.done():
            self.peer = msg["peer"]
            self.heartbeat = float(msg.get("heartbeat") or 10)
            self.welcome.set_result(msg)
        elif kind == "error":
            self.run.phase.errors[msg.get("code", "?")] += 1

    async def close(self) -> None:
        for task in self.tasks[1:]:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        for task in self.tasks:
            task.cancel()


# --- frames --------------------------------------------------------------------------------


def _split_json(payload: dict, proto: str, kind: str) -> tuple[str, str]:
    """The frame as (text before the marker, text after it); the ``to`` value
    goes last so that one template serves every pair."""
    placeholder = "@@MARK@@"
    body = json.dumps({"type": kind, **payload, "to": "@@TO@@"}, separators=(",", ":"))
    text = f'42["{kind}",{body}]' if proto == "sio" else body
    head, _, tail = text.partition(placeholder)
    return head, tail


def frame_templates(proto: str) -> dict[str, tuple[bytes, bytes, bytes]]:
    """kind -> (head, middle, end), UTF-8: frame = head + marker + middle + peer id + end."""
    payloads = {
        "offer": {"sdp": with_marker(OFFER_SDP, "@@MARK@@")},
        "answer": {"sdp": with_marker(ANSWER_SDP, "@@MARK@@")},
        "candidate": {
            "candidate": {
                "candidate": CANDIDATE + " @@MARK@@",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
                "usernameFragment": "aB3d",
            }
        },
        # The marker first, then an extension attribute that pads the frame
        # to about 1 KB (the candidate string stays under MAX_CANDIDATE).
        "candidate-1k": {
            "candidate": {
                "candidate": CANDIDATE + " @@MARK@@ x-pad " + "p" * CANDIDATE_1K_PAD,
                "sdpMid": "0",
                "sdpMLineIndex": 0,
                "usernameFragment": "aB3d",
            }
        },
    }
    out = {}
    for kind, payload in payloads.items():
        head, tail = _split_json(payload, proto, kind.removesuffix("-1k"))
        middle, _, end = tail.partition("@@TO@@")
        out[kind] = (head.encode(), middle.encode(), end.encode())
    return out


# --- targets -----------------------------------------------------------------------------------


class Target:
    """The server processes of one configuration, started fresh for each repetition."""

    def __init__(self, name: str, args: argparse.Namespace, fixture: dict | None) -> None:
        self.name = name
        self.conf = TARGETS[name]
        self.kind = self.conf["kind"]
        self.procs = self.conf["procs"]
        self.args = args
        self.fixture = fixture
        self.servers: list = []
        self.redis = None
        self.proto = "sio" if self.kind == "bare-node" else "json"
        self.workdir = args.workdir / name

    def start(self) -> None:
        cpus = self.args.server_cpus
        if self.kind == "meet":
            env = {"DATABASE_URL": self.fixture["database_url"], "LOG_LEVEL": "WARNING"}
            env.update(self.args.server_env)
            if self.conf["layer"]:
                self.redis = PinnedRedis(self.workdir, cpus=self.args.redis_cpus).start()
                env["REDIS_URL"] = self.redis.url
                env["CHANNEL_LAYER"] = self.conf["layer"]
            server = PinnedUvicorn if self.conf.get("server") == "uvicorn" else PinnedDaphne
            for _ in range(self.procs):
                process = server(self.workdir, env=env, cpus=cpus)
                if self.conf.get("root"):
                    process.cwd = self.conf["root"]
                self.servers.append(process.start())
        elif self.kind == "bare-python":
            self.servers.append(BareRelay(self.workdir, cpus=cpus).start())
        else:
            self.servers.append(NodeRelay(self.workdir, cpus=cpus).start())

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []
        if self.redis is not None:
            self.redis.stop()
            self.redis = None

    @property
    def server_pids(self) -> list[int]:
        return [s.proc.pid for s in self.servers]

    @property
    def redis_pids(self) -> list[int]:
        return [self.redis.proc.pid] if self.redis is not None else []

    def rooms(self, pool: str, count: int, size: int, rep: int) -> list[list[dict]]:
        """``count`` rooms of ``size``: for each member the URL, headers and room."""
        rooms = []
        for r in range(count):
            members = []
            if self.kind == "meet":
                room = self.fixture["pools"][pool][r]
                slug = room["slug"]
            else:
                slug = f"{pool}-{rep}-{r}"
            for m in range(size):
                server = self.servers[m % self.procs]
                port = server.port
                spec = {"room": slug, "proto": self.proto}
                if self.kind == "bare-node":
                    spec["url"] = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
                else:
                    spec["url"] = f"ws://127.0.0.1:{port}/ws/rooms/{slug}/"
                if self.kind == "meet":
                    session = room["members"][m]["session"]
                    spec["headers"] = {"Cookie": f"{self.fixture['cookie']}={session}"}
                    spec["origin"] = f"http://127.0.0.1:{port}"
                members.append(spec)
            rooms.append(members)
        return rooms


def make_clients(run: Run, rooms: list[list[dict]]) -> list[list[Client]]:
    return [
        [
            Client(
                run,
                spec["proto"],
                spec["url"],
                spec["room"],
                headers=spec.get("headers"),
                origin=spec.get("origin"),
            )
            for spec in members
        ]
        for members in rooms
    ]


async def open_and_join(rooms: list[list[Client]], concurrency: int = 50) -> None:
    """Open and join every client, at most ``concurrency`` handshakes at a time,
    room by room in member order (so the first member is the room's host)."""
    gate = asyncio.Semaphore(concurrency)

    async def one_room(members: list[Client]) -> None:
        for client in members:
            async with gate:
                await client.open()
                await client.join()
            client.start_heartbeat()

    await asyncio.gather(*(one_room(members) for members in rooms))


async def close_all(clients: list[Client]) -> None:
    await asyncio.gather(*(c.close() for c in clients))
    await asyncio.sleep(0.5)


async def settle(target: Target, limit: float = 60) -> float:
    """Wait until the servers are idle (under 5 % of a core over half a
    second), so one phase's clean-up (a thousand disconnects) does not run
    into the next phase's measurement. Returns the seconds waited."""
    start = time.monotonic()
    pids = target.server_pids + target.redis_pids
    while time.monotonic() - start < limit:
        meter = CpuMeter(pids).start()
        await asyncio.sleep(0.5)
        if meter.stop() < 0.05 * max(1, len(pids)):
            break
    return time.monotonic() - start


def peers_known(rooms: list[list[Client]]) -> list[tuple[Client, bytes]]:
    """(sender, addressee peer id) for every ordered pair in every room,
    interleaved so that consecutive messages go through different rooms."""
    per_room = [
        [(a, b.peer.encode()) for a in members for b in members if a is not b and b.peer]
        for members in rooms
    ]
    pairs = []
    for column in itertools.zip_longest(*per_room):
        pairs.extend(p for p in column if p is not None)
    return pairs


# --- phases ----------------------------------------------------------------------------


async def phase_idle(run: Run, target: Target, args: argparse.Namespace, rep: int) -> dict:
    count = max(1, args.idle // args.size)
    rooms = make_clients(run, target.rooms("idle", count, args.size, rep))
    clients = [c for members in rooms for c in members]
    await asyncio.sleep(1.0)
    before = sum(rss_bytes(pid) for pid in target.server_pids)
    redis_before = sum(rss_bytes(pid) for pid in target.redis_pids)
    # ``--profile-phases join`` profiles the idle phase's connects and joins.
    profiler = start_profiler(target, args, rep, "join") if profiling(args, "join") else None
    if profiler is not None:
        await asyncio.sleep(1)  # attached before the first connect
    joining = CpuMeter(target.server_pids).start()
    await open_and_join(rooms)
    join_cores = joining.stop()
    profiler_stop(profiler)
    join_wall = time.monotonic() - joining.t0
    # The profile, if asked for, covers the quiet window only (not the joins).
    profiler = start_profiler(target, args, rep, "idle") if profiling(args, "idle") else None
    cpu = CpuMeter(target.server_pids).start()
    redis_cpu = CpuMeter(target.redis_pids).start()
    await asyncio.sleep(args.idle_seconds)
    server_cpu, r_cpu = cpu.stop(), redis_cpu.stop()
    profiler_stop(profiler)
    after = sum(rss_bytes(pid) for pid in target.server_pids)
    redis_after = sum(rss_bytes(pid) for pid in target.redis_pids)
    open_now = sum(1 for c in clients if c.close_code is None)
    await close_all(clients)
    return {
        "sockets": len(clients),
        "sockets_open_at_end": open_now,
        "seconds": args.idle_seconds,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "rss_per_socket_kib": (after - before) / len(clients) / 1024,
        "redis_rss_per_socket_kib": (redis_after - redis_before) / len(clients) / 1024
        if target.redis_pids
        else None,
        "server_cpu_cores": server_cpu,
        "redis_cpu_cores": r_cpu if target.redis_pids else None,
        # Server CPU per connect + join while the sockets opened (at most 50
        # handshakes at a time, room by room).
        "join_cpu_ms": join_cores * join_wall / len(clients) * 1000,
        "join_seconds": join_wall,
    }


async def phase_storm(run: Run, target: Target, args: argparse.Namespace, rep: int) -> dict:
    count = max(1, args.storm // args.size)
    rooms = make_clients(run, target.rooms("storm", count, args.size, rep))
    clients = [c for members in rooms for c in members]
    cpu = CpuMeter(target.server_pids).start()
    overflows = benchlib.listen_overflows()

    async def one(client: Client) -> int:
        t0 = now_ns()
        await client.open()
        await client.join()
        return now_ns() - t0

    t0 = now_ns()
    results = await asyncio.gather(*(one(c) for c in clients), return_exceptions=True)
    wall = (now_ns() - t0) / NS
    server_cpu = cpu.stop()
    times = [r / 1e6 for r in results if isinstance(r, int)]
    failures = Counter(f"{type(r).__name__}: {r}"[:120] for r in results if not isinstance(r, int))
    await close_all(clients)
    return {
        "joins": len(clients),
        "ok": len(times),
        "failures": dict(failures),
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "max_ms": max(times) if times else None,
        "all_joined_s": wall,
        # Handshakes the kernel dropped because the server's accept queue was
        # full (retried by TCP after ~1 s): a backlog problem, not a slow server.
        "listen_overflows": benchlib.listen_overflows() - overflows,
        "server_cpu_cores": server_cpu,
        "join_cpu_ms": server_cpu * wall / len(clients) * 1000,
    }


async def drive(
    run: Run,
    pairs: list[tuple[Client, bytes]],
    templates: dict[str, tuple[bytes, bytes, bytes]],
    rate: float,
    seconds: float,
    on_measure_start,
    warmup: float,
    kinds: tuple[str, ...] = KIND_CYCLE,
) -> tuple[float, float]:
    """Open-loop sender for the fixed-rate phase: message i is due at
    t0 + i/rate, whatever happened to the earlier ones. Each message carries
    its scheduled and its real send time: latency from the real send time is
    the relay's; from the scheduled time it also counts the client's own
    lateness (coordinated omission). Returns (measure start,
    measure end) in ns."""
    phase = run.phase
    period = NS / rate
    total = int(rate * (seconds + warmup))
    npairs = len(pairs)
    t0 = now_ns() + 50_000_000
    t_measure = t0 + int(warmup * NS)
    measure_index = int(warmup * rate)
    i = 0
    batch_cap = 256
    while i < total:
        now = now_ns()
        due = min(total, (now - t0) * rate // NS + 1) if now >= t0 else 0
        sent_in_batch = 0
        while i < due and sent_in_batch < batch_cap:
            if i == measure_index and not phase.measuring:
                phase.measuring = True
                on_measure_start()
            sched = t0 + int(i * period)
            sender, peer = pairs[i % npairs]
            kind = kinds[(i // npairs) % len(kinds)]
            i += 1
            sent_in_batch += 1
            ws = sender.ws
            if sender.close_code is not None or ws is None:
                phase.errors["sender-closed"] += 1
                continue
            head, middle, end = templates[kind]
            sending = now_ns()
            sender.inflight += 1
            phase.sent += 1
            if phase.measuring:
                phase.send_lag.append(sending - sched)
            try:
                marker = b"%s%d:%d:%d;" % (BMARK, sender.index, sched, sending)
                await ws.send(b"".join((head, marker, middle, peer, end)), text=True)
            except ConnectionClosed:
                phase.errors["sender-closed"] += 1
        if i >= due:
            # At least 0.5 ms: a high offered rate must not cost one wakeup per
            # message (the latency stamps carry the real send time anyway).
            delay = (t0 + int(i * period) - now_ns()) / NS
            await asyncio.sleep(max(0.0005, delay))
        else:
            await asyncio.sleep(0)  # behind schedule: let the readers run
    if not phase.measuring:
        phase.measuring = True
        on_measure_start()
    return t_measure, now_ns()


async def drive_closed(
    run: Run,
    pairs: list[tuple[Client, bytes]],
    templates: dict[str, tuple[bytes, bytes, bytes]],
    per_conn_rate: float,
    window: int,
    seconds: float,
    on_measure_start,
    warmup: float,
) -> None:
    """Closed-loop sender for the saturation phase: each connection keeps at
    most ``window`` messages in flight and sends at most ``per_conn_rate``
    messages/s (under meet's per-connection limit), to its room-mates in turn.
    The client's work is proportional to what is delivered, not offered, so a
    slow server does not make the client busy. Latency is from the real send
    time."""
    phase = run.phase
    by_sender: dict[Client, list[bytes]] = {}
    for sender, peer in pairs:
        by_sender.setdefault(sender, []).append(peer)
    interval = 1 / per_conn_rate
    start = time.monotonic()
    stop_at = start + warmup + seconds

    async def pump(sender: Client, peers: list[bytes]) -> None:
        credit = sender.credit = asyncio.Event()
        # Spread the connections' first sends over one interval.
        next_send = start + random.uniform(0, interval)
        k = 0
        while True:
            now = time.monotonic()
            ws = sender.ws
            if now >= stop_at or sender.close_code is not None or ws is None:
                return
            if sender.inflight >= window:
                credit.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(credit.wait(), stop_at - now)
                continue
            if now < next_send:
                await asyncio.sleep(next_send - now)
                continue
            next_send = max(next_send + interval, now)
            peer = peers[k % len(peers)]
            kind = KIND_CYCLE[(k // len(peers)) % 10]
            k += 1
            head, middle, end = templates[kind]
            sending = now_ns()
            sender.inflight += 1
            phase.sent += 1
            marker = b"%s%d:%d:%d;" % (BMARK, sender.index, sending, sending)
            try:
                await ws.send(b"".join((head, marker, middle, peer, end)), text=True)
            except ConnectionClosed:
                phase.errors["sender-closed"] += 1
                return

    async def measure_switch() -> None:
        await asyncio.sleep(warmup)
        phase.measuring = True
        on_measure_start()

    switch = asyncio.create_task(measure_switch())
    await asyncio.gather(*(pump(sender, peers) for sender, peers in by_sender.items()))
    await switch
    for sender in by_sender:
        sender.credit = None


async def phase_traffic(
    run: Run, target: Target, args: argparse.Namespace, rep: int, saturate: bool
) -> dict:
    per_room = args.size * (args.size - 1)
    if saturate:
        count = args.sat_rooms
        rate = count * args.size * args.per_conn_rate
        window = args.window
    else:
        conns_needed = math.ceil(args.rate / args.per_conn_rate)
        count = args.rooms or max(1, math.ceil(conns_needed / args.size))
        rate = args.rate
        window = None
    per_conn = rate / (count * args.size)
    if target.kind == "meet" and per_conn > args.per_conn_rate and not args.force:
        raise SystemExit(
            f"{per_conn:.0f} messages/s per connection would exceed meet's rate limit; "
            f"use more --rooms (or --force)"
        )
    pool = "saturate" if saturate else "fixed"
    rooms = make_clients(run, target.rooms(pool, count, args.size, rep))
    clients = [c for members in rooms for c in members]
    await open_and_join(rooms)
    await asyncio.sleep(0.5)  # every peer-joined delivered
    pairs = peers_known(rooms)
    assert len(pairs) == count * per_room, "some peer ids are missing"
    templates = frame_templates(target.proto)
    phase = run.phase
    meters: dict[str, CpuMeter] = {}

    profiled = profiling(args, phase.name)
    profiler: list = []

    def measure_start() -> None:
        if profiled:
            profiler.append(start_profiler(target, args, rep, phase.name))
        meters["server"] = CpuMeter(target.server_pids).start()
        meters["redis"] = CpuMeter(target.redis_pids).start()
        meters["client"] = CpuMeter([], own=True).start()
        meters["delivered0"] = phase.measured_delivered  # type: ignore[assignment]
        meters["t0"] = now_ns()  # type: ignore[assignment]

    timeline: list[tuple[float, int, float, float]] = []

    async def sample() -> None:
        """Every 0.5 s: (seconds, messages delivered, server CPU s, client CPU s)."""
        start = now_ns()
        while True:
            timeline.append(
                (
                    round((now_ns() - start) / NS, 2),
                    phase.delivered,
                    round(sum(benchlib.cpu_seconds(p) for p in target.server_pids), 2),
                    round(benchlib.self_cpu_seconds(), 2),
                )
            )
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    if saturate:
        await drive_closed(
            run,
            pairs,
            templates,
            args.per_conn_rate,
            args.window,
            args.duration,
            measure_start,
            args.warmup,
        )
    else:
        await drive(run, pairs, templates, rate, args.duration, measure_start, args.warmup)
    # Throughput over the measured window: deliveries counted while sending.
    delivered_in_window = phase.measured_delivered
    window_s = (now_ns() - meters["t0"]) / NS  # type: ignore[operator]
    server_cpu = meters["server"].stop()
    redis_cpu = meters["redis"].stop()
    client_cpu = meters["client"].stop()
    sampler.cancel()
    for proc in profiler:
        profiler_stop(proc)
    # Drain: wait for stragglers (they count for loss, not for throughput).
    deadline = time.monotonic() + 5
    while phase.delivered < phase.sent and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    lat_ms = [v / 1e6 for v in phase.latencies]
    sched_ms = [v / 1e6 for v in phase.sched_latencies]
    lag_ms = [v / 1e6 for v in phase.send_lag]
    closed = Counter(c.close_code for c in clients if c.close_code is not None)
    await close_all(clients)
    throughput = delivered_in_window / window_s if window_s > 0 else None

    def per_msg(cores: float) -> float | None:
        return cores * window_s / delivered_in_window * 1e6 if delivered_in_window else None

    return {
        "rooms": count,
        "connections": len(clients),
        "offered_rate": rate,
        "per_connection_rate": per_conn,
        "window": window,
        "measured_seconds": window_s,
        "sent": phase.sent,
        "delivered": phase.delivered,
        "lost": phase.sent - phase.delivered,
        "throughput_msgs": throughput,
        # Saturated: the server did not keep up with what was offered.
        "saturated": (throughput or 0) < 0.97 * rate,
        "throughput_per_proc": throughput / target.procs if throughput else None,
        "p50_ms": percentile(lat_ms, 50),
        "p99_ms": percentile(lat_ms, 99),
        "max_ms": max(lat_ms) if lat_ms else None,
        "from_schedule_p50_ms": percentile(sched_ms, 50),
        "from_schedule_p99_ms": percentile(sched_ms, 99),
        "client_send_lag_p50_ms": percentile(lag_ms, 50),
        "client_send_lag_p99_ms": percentile(lag_ms, 99),
        "server_cpu_cores": server_cpu,
        "server_cpu_per_proc": server_cpu / target.procs,
        # CPU time per relayed message: less sensitive to a noisy machine than msgs/s.
        "server_cpu_us_per_msg": per_msg(server_cpu),
        "redis_cpu_us_per_msg": per_msg(redis_cpu) if target.redis_pids else None,
        "client_cpu_us_per_msg": per_msg(client_cpu),
        "redis_cpu_cores": redis_cpu if target.redis_pids else None,
        "client_cpu_cores": client_cpu,
        "client_bound": client_cpu > 0.9,
        "errors": dict(phase.errors),
        "closed_codes": {str(k): v for k, v in closed.items()},
        "timeline": timeline,
    }


def unicast_pairs(rooms: list[list[Client]]) -> list[tuple[Client, bytes]]:
    """Each member sends to one fixed room-mate (0 <-> 1, 2 <-> 3), interleaved
    across rooms."""
    per_room = []
    for members in rooms:
        mine = []
        for i, client in enumerate(members):
            partner = members[i ^ 1] if (i ^ 1) < len(members) else members[0]
            if partner is not client and partner.peer:
                mine.append((client, partner.peer.encode()))
        per_room.append(mine)
    pairs = []
    for column in itertools.zip_longest(*per_room):
        pairs.extend(p for p in column if p is not None)
    return pairs


async def unicast_step(
    run: Run,
    target: Target,
    pairs: list[tuple[Client, bytes]],
    templates: dict[str, tuple[bytes, bytes, bytes]],
    rate: float,
    args: argparse.Namespace,
) -> dict:
    """One open-loop step of the unicast ramp at ``rate`` messages/s."""
    phase = run.phase = Phase("unicast")
    meters: dict = {}

    def measure_start() -> None:
        meters["server"] = CpuMeter(target.server_pids).start()
        meters["client"] = CpuMeter([], own=True).start()
        meters["sent0"] = phase.sent
        meters["t0"] = now_ns()

    await drive(
        run, pairs, templates, rate, args.step_seconds, measure_start, args.step_warmup,
        kinds=UNICAST_CYCLE,
    )  # fmt: skip
    window_s = (now_ns() - meters["t0"]) / NS
    server_cpu = meters["server"].stop()
    client_cpu = meters["client"].stop()
    sent_in_window = phase.sent - meters["sent0"]
    deadline = time.monotonic() + 1.0
    while phase.delivered < phase.sent and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    delivered = phase.measured_delivered
    lat_ms = [v / 1e6 for v in phase.latencies]
    p99 = percentile(lat_ms, 99)
    delivered_rate = delivered / window_s if window_s > 0 else 0.0
    ok = (
        p99 is not None
        and p99 <= args.max_p99_ms
        and delivered >= 0.95 * sent_in_window
        and delivered_rate >= 0.95 * rate
    )
    return {
        "offered_rate": rate,
        "sent": sent_in_window,
        "delivered": delivered,
        "delivered_rate": delivered_rate,
        "p50_ms": percentile(lat_ms, 50),
        "p99_ms": p99,
        "from_schedule_p99_ms": percentile([v / 1e6 for v in phase.sched_latencies], 99),
        "server_cpu_cores": server_cpu,
        "server_cpu_us_per_msg": server_cpu * window_s / delivered * 1e6 if delivered else None,
        "client_cpu_cores": client_cpu,
        "client_bound": client_cpu > 0.9,
        "errors": dict(phase.errors),
        "sustained": ok,
    }


async def phase_unicast(run: Run, target: Target, args: argparse.Namespace, rep: int) -> dict:
    """1 KB candidates, each socket to one peer, at rising open-loop rates:
    the highest rate with p99 <= --max-p99-ms and >= 95 % delivered is the
    maximum sustainable rate; then one step at half of it."""
    count = args.unicast_rooms
    rooms = make_clients(run, target.rooms("unicast", count, args.size, rep))
    clients = [c for members in rooms for c in members]
    await open_and_join(rooms)
    await asyncio.sleep(0.5)
    pairs = unicast_pairs(rooms)
    templates = frame_templates(target.proto)
    cap = len(pairs) * args.per_conn_rate
    steps = []
    best = None
    for rate in args.unicast_rates:
        if rate > cap and not args.force:
            break
        step = await unicast_step(run, target, pairs, templates, rate, args)
        steps.append(step)
        await settle(target, limit=10)
        if not step["sustained"]:
            break
        best = step
    half = None
    if best is not None:
        half = await unicast_step(run, target, pairs, templates, best["offered_rate"] / 2, args)
    at_ref = next((s for s in steps if s["offered_rate"] == args.unicast_cpu_rate), None)
    closed = Counter(c.close_code for c in clients if c.close_code is not None)
    await close_all(clients)
    return {
        "connections": len(clients),
        "steps": steps,
        "max_sustainable_rate": best["offered_rate"] if best else None,
        # The ramp stopped at the highest rate offered without failing: a bound.
        "max_is_bound": bool(best) and best is steps[-1],
        "max_client_bound": bool(best and best["client_bound"]),
        "half_max": half,
        "p99_ms_at_half_max": half["p99_ms"] if half else None,
        "cpu_rate": args.unicast_cpu_rate,
        "server_cpu_us_per_msg_at_cpu_rate": at_ref["server_cpu_us_per_msg"] if at_ref else None,
        "closed_codes": {str(k): v for k, v in closed.items()},
    }


PROFILE_FORMATS = {"svg": "flamegraph", "json": "speedscope", "txt": "raw"}


def profiling(args: argparse.Namespace, phase: str) -> bool:
    return bool(args.profile) and phase in args.profile_phases


def start_profiler(target: Target, args: argparse.Namespace, rep: int, phase: str):
    """py-spy sampling the first server process (daphne, or a bare relay) for
    one phase; the profiler itself runs on the client's CPU."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists() or target.kind == "bare-node":
        print("  no profile (py-spy missing, or not a Python server)", file=sys.stderr)
        return None
    out = benchlib.RESULTS / f"profile-{target.name}-{phase}-rep{rep}.{args.profile}"
    benchlib.RESULTS.mkdir(parents=True, exist_ok=True)
    cmd = [
        *benchlib.pin(args.client_cpus),
        spy, "record", "--pid", str(target.server_pids[0]), "--rate", "200",
        "--nonblocking", "--format", PROFILE_FORMATS[args.profile], "-o", str(out),
    ]  # fmt: skip
    print(f"  profiling pid {target.server_pids[0]} -> {out}", file=sys.stderr)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def profiler_stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(10)
    if proc.returncode:
        err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
        print("py-spy:", err, file=sys.stderr)


async def warm_up(run: Run, target: Target, args: argparse.Namespace, rep: int) -> None:
    """One room joins, exchanges a few messages and leaves: imports, database
    connections and caches are warm before anything is measured."""
    rooms = make_clients(run, target.rooms("warmup", 1, args.size, rep))
    await open_and_join(rooms)
    await asyncio.sleep(0.2)
    pairs = peers_known(rooms)
    await drive(run, pairs, frame_templates(target.proto), 20, 0.5, lambda: None, 0)
    await asyncio.sleep(0.2)
    await close_all([c for m in rooms for c in m])


async def run_target(target: Target, args: argparse.Namespace, rep: int) -> dict:
    result: dict = {"target": target.name, "rep": rep}
    target.start()
    try:
        run = Run()
        run.phase = Phase("warmup")
        await warm_up(run, target, args, rep)
        await settle(target)
        for name in args.phases:
            run.phase = Phase(name)
            print(f"  {target.name} rep {rep}: {name}", file=sys.stderr, flush=True)
            profiler = None
            if profiling(args, name) and name in {"storm", "unicast"}:
                profiler = start_profiler(target, args, rep, name)
                await asyncio.sleep(1)  # attached before the phase starts
            # (idle, fixed and saturate start their profiler when measuring starts)
            if name == "idle":
                result[name] = await phase_idle(run, target, args, rep)
            elif name == "storm":
                result[name] = await phase_storm(run, target, args, rep)
            elif name == "unicast":
                result[name] = await phase_unicast(run, target, args, rep)
            else:
                result[name] = await phase_traffic(run, target, args, rep, name == "saturate")
            profiler_stop(profiler)
            run.clients = []
            result[name]["settle_after_s"] = await settle(target)
    finally:
        target.stop()
    return result


# --- summary --------------------------------------------------------------------------------

METRICS = [
    # (column, phase, key, digits)
    ("relay msgs/s per process at saturation", "saturate", "throughput_per_proc", 0),
    ("p50 ms at saturation", "saturate", "p50_ms", 1),
    ("p99 ms at saturation", "saturate", "p99_ms", 1),
    ("p50 ms at fixed rate", "fixed", "p50_ms", 2),
    ("p99 ms at fixed rate", "fixed", "p99_ms", 2),
    ("server CPU (cores) at fixed rate", "fixed", "server_cpu_cores", 2),
    ("server CPU µs per message at saturation", "saturate", "server_cpu_us_per_msg", 1),
    ("client CPU (cores) at saturation", "saturate", "client_cpu_cores", 2),
    ("client CPU µs per message at saturation", "saturate", "client_cpu_us_per_msg", 1),
    ("join storm p50 ms", "storm", "p50_ms", 1),
    ("join storm p99 ms", "storm", "p99_ms", 1),
    ("join storm: handshakes dropped by a full listen queue", "storm", "listen_overflows", 0),
    ("RSS KiB per idle socket", "idle", "rss_per_socket_kib", 1),
    ("server CPU (cores) idle", "idle", "server_cpu_cores", 3),
    ("server CPU ms per connect + join", "idle", "join_cpu_ms", 2),
    ("server CPU µs per message, fixed rate", "fixed", "server_cpu_us_per_msg", 1),
    ("unicast: max sustainable msgs/s", "unicast", "max_sustainable_rate", 0),
    (
        "unicast: server CPU µs per 1 KB candidate",
        "unicast",
        "server_cpu_us_per_msg_at_cpu_rate",
        1,
    ),
    ("unicast: p99 ms at half the max", "unicast", "p99_ms_at_half_max", 2),
]

# The aims of the signaling issue, each a ratio of medians within one run:
# (label, phase.key, baseline target, comparison, bound). A baseline of None
# makes the bound absolute; "memory" compares a Redis target with the same
# server on the in-memory layer.
GOALS = [
    ("CPU per relayed 1 KB candidate, unicast", "unicast.server_cpu_us_per_msg_at_cpu_rate",
     "bare-python", "<=", 1.3),
    ("CPU per relayed message, the mix (saturation)", "saturate.server_cpu_us_per_msg",
     "bare-python", "<=", 1.3),
    ("max sustainable msgs/s, unicast", "unicast.max_sustainable_rate", "bare-node", ">=", 0.8),
    ("p99 ms at half of its own max", "unicast.p99_ms_at_half_max", None, "<=", 10.0),
    ("CPU per connect + join", "idle.join_cpu_ms", "bare-python", "<=", 3.0),
    ("join storm p99", "storm.p99_ms", "bare-python", "<=", 2.0),
    ("join storm: failed or dropped handshakes", "storm.dropped", None, "<=", 0),
    ("2,000 idle sockets: server cores", "idle.server_cpu_cores", None, "<=", 0.03),
    ("2,000 idle sockets: RSS KiB per socket", "idle.rss_per_socket_kib", None, "<=", 25.0),
    ("Redis: CPU per message (saturation) vs in-memory", "saturate.server_cpu_us_per_msg",
     "memory", "<=", 1.2),
    ("Redis: max sustainable msgs/s vs in-memory", "unicast.max_sustainable_rate",
     "memory", ">=", 1 / 1.2),
]  # fmt: skip


def summarise(runs: list[dict], targets: list[str]) -> dict:
    summary: dict = {}
    for name in targets:
        mine = [r for r in runs if r["target"] == name]
        summary[name] = {
            f"{phase}.{key}": spread(r.get(phase, {}).get(key) for r in mine)
            for _, phase, key, _ in METRICS
        }
        summary[name]["unsaturated_reps"] = sum(
            1 for r in mine if "saturate" in r and not r["saturate"]["saturated"]
        )
        summary[name]["storm.dropped"] = spread(
            (r["storm"]["joins"] - r["storm"]["ok"]) + r["storm"]["listen_overflows"]
            for r in mine
            if "storm" in r
        )
        summary[name]["unicast_bound_reps"] = sum(
            1 for r in mine if r.get("unicast", {}).get("max_is_bound")
        )
    for base in ("bare-python", "bare-node"):
        if base not in summary:
            continue
        for name in targets:
            if name.startswith("bare-"):
                continue
            ratios = {}
            for _, phase, key, _ in METRICS:
                ours = summary[name][f"{phase}.{key}"]["median"]
                theirs = summary[base][f"{phase}.{key}"]["median"]
                ratios[f"{phase}.{key}"] = ours / theirs if ours and theirs else None
            summary[name][f"ratio_to_{base}"] = ratios
    for name in targets:
        if not name.startswith("bare-"):
            summary[name]["goals"] = goals_for(summary, name)
    return summary


def memory_twin(name: str) -> str | None:
    """The in-memory target with the same server as a Redis target."""
    base, at, where = name.partition("@")
    if "redis" not in base or "2proc" in base:
        return None
    twin = "meet-memory-uvicorn" if base.endswith("-uvicorn") else "meet-memory"
    return twin + at + where


def goals_for(summary: dict, name: str) -> list[dict]:
    out = []
    for label, key, base, op, bound in GOALS:
        if base == "memory":
            base = memory_twin(name)
            if base is None:
                continue
        elif base is not None and "redis" in name:
            continue  # Redis targets are held to the in-memory figures
        elif base is None and "redis" in name:
            continue
        ours = summary[name].get(key, {}).get("median")
        if base is None:
            value = ours
        else:
            theirs = summary.get(base, {}).get(key, {}).get("median")
            value = ours / theirs if ours is not None and theirs else None
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        out.append(
            {"goal": label, "key": key, "baseline": base, "value": value, "op": op,
             "bound": bound, "met": met}
        )  # fmt: skip
    return out


def markdown(summary: dict, targets: list[str]) -> str:
    header = ["figure", *targets]
    rows = []
    for label, phase, key, digits in METRICS:
        cells = []
        for t in targets:
            cell = fmt_spread(summary[t][f"{phase}.{key}"], digits)
            if key == "throughput_per_proc" and summary[t]["unsaturated_reps"]:
                # The server kept up with everything offered: a lower bound only.
                cell = f"≥ {cell} (not saturated: raise --sat-rooms)"
            cells.append(cell)
        rows.append([label, *cells])
    text = markdown_table(header, rows)
    ratio_rows = []
    meets = [t for t in targets if not t.startswith("bare-")]
    for base in ("bare-python", "bare-node"):
        for label, phase, key, _ in METRICS:
            cells = []
            for t in meets:
                value = summary[t].get(f"ratio_to_{base}", {}).get(f"{phase}.{key}")
                cells.append(f"{value:.2f}×" if value else "–")
            if any(c != "–" for c in cells):
                ratio_rows.append([f"{label} ÷ {base}", *cells])
    if ratio_rows:
        text += "\n\nRatios of medians (meet ÷ bare relay):\n\n"
        text += markdown_table(["figure", *meets], ratio_rows)
    goal_rows = []
    for t in meets:
        for goal in summary[t].get("goals", []):
            value = goal["value"]
            shown = (
                "–" if value is None else (f"{value:.2f}×" if goal["baseline"] else f"{value:.3g}")
            )
            verdict = {True: "met", False: "not met", None: "–"}[goal["met"]]
            bound = f"{goal['op']} {goal['bound']:.3g}" + ("×" if goal["baseline"] else "")
            goal_rows.append(
                [t, goal["goal"], goal["baseline"] or "absolute", shown, bound, verdict]
            )
    if goal_rows:
        text += "\n\nAims (ratios of medians in this run):\n\n"
        text += markdown_table(["target", "aim", "against", "value", "bound", ""], goal_rows)
    return text


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--targets",
        default="meet-memory,bare-python,bare-node",
        help=f"comma-separated, from: {', '.join(TARGETS)} (alias meet-redis-2proc)",
    )
    p.add_argument("--target", dest="targets", help="same as --targets")
    p.add_argument("--phases", default=",".join(PHASES))
    p.add_argument("--reps", type=int, default=3, help="repetitions (min/median/max)")
    p.add_argument("--size", type=int, default=4, choices=[2, 3, 4], help="people per room")
    p.add_argument("--rate", type=float, default=4000, help="fixed offered load, messages/s")
    p.add_argument("--rooms", type=int, default=0, help="rooms for the fixed phase (0: enough)")
    p.add_argument("--per-conn-rate", type=float, default=40, help="messages/s per connection")
    p.add_argument("--duration", type=float, default=20, help="measured seconds per phase")
    p.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before that")
    p.add_argument("--sat-rooms", type=int, default=150, help="rooms for the saturate phase")
    p.add_argument("--window", type=int, default=8, help="saturate: messages in flight per sender")
    p.add_argument("--storm", type=int, default=200, help="simultaneous joins")
    p.add_argument("--idle", type=int, default=2000, help="idle sockets for RSS per socket")
    p.add_argument("--unicast-rooms", type=int, default=150, help="rooms for the unicast ramp")
    p.add_argument(
        "--unicast-rates",
        default="2000,4000,6000,8000,10000,12000,14000,16000,18000,20000,22000,24000",
        help="offered rates of the unicast ramp, messages/s, rising",
    )
    p.add_argument(
        "--unicast-cpu-rate", type=float, default=2000,
        help="the ramp step whose CPU per message is reported (every target sustains it)",
    )  # fmt: skip
    p.add_argument("--step-seconds", type=float, default=5, help="measured seconds per step")
    p.add_argument("--step-warmup", type=float, default=1, help="unmeasured seconds per step")
    p.add_argument("--max-p99-ms", type=float, default=100, help="sustainable: p99 at most")
    p.add_argument("--idle-seconds", type=float, default=25)
    p.add_argument("--server-cpus", default="0", help="taskset CPU list for the servers")
    p.add_argument("--redis-cpus", default="0", help="taskset CPU list for redis-server")
    p.add_argument("--client-cpus", default="1", help="CPU list for this load client")
    p.add_argument(
        "--profile",
        choices=list(PROFILE_FORMATS),
        help="py-spy the first server process during --profile-phases: flame graph (svg), "
        "speedscope (json) or collapsed stacks (txt), into bench/results/",
    )
    p.add_argument(
        "--profile-phases",
        default="saturate,storm",
        help="phases to profile; 'join' is the idle phase's connects and joins, "
        "'idle' its quiet window",
    )
    p.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        help="the load client's event loop (uvloop keeps the client cheaper)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for meet's daphne (settings experiments, e.g. "
        "SIGNALING_TICK=2); repeatable, recorded in the result",
    )
    p.add_argument("--force", action="store_true", help="allow exceeding meet's rate limit")
    p.add_argument(
        "--baseline",
        metavar="CHECKOUT",
        help="also run every meet target from this checkout (e.g. a git worktree of an "
        "earlier commit), as <target>@baseline",
    )
    p.add_argument("--out", type=Path, help="result JSON path (default bench/results/...)")
    args = p.parse_args(argv)
    names = [ALIASES.get(t.strip(), t.strip()) for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in names if t not in TARGETS]
    if unknown:
        p.error(f"unknown target(s): {', '.join(unknown)}")
    if args.baseline:
        # The same meet targets, served from another checkout (say, the commit
        # before an optimisation), interleaved with the others in this run.
        root = Path(args.baseline).resolve()
        if not (root / "meet" / "asgi.py").exists():
            p.error(f"--baseline {root}: not a meet checkout")
        for name in [t for t in names if TARGETS[t]["kind"] == "meet"]:
            TARGETS[f"{name}@baseline"] = {**TARGETS[name], "root": root}
            names.append(f"{name}@baseline")
    args.targets = names
    try:
        args.server_env = dict(item.split("=", 1) for item in args.server_env)
    except ValueError:
        p.error("--server-env takes NAME=VALUE")
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    args.unicast_rates = [float(x) for x in args.unicast_rates.split(",") if x.strip()]
    args.profile_phases = [x.strip() for x in args.profile_phases.split(",") if x.strip()]
    if bad := [x for x in args.phases if x not in PHASES]:
        p.error(f"unknown phase(s): {', '.join(bad)}")
    return args


def fixture_pools(args: argparse.Namespace) -> dict[str, tuple[int, int]]:
    conns = math.ceil(args.rate / args.per_conn_rate)
    return {
        "warmup": (1, args.size),
        "idle": (max(1, args.idle // args.size), args.size),
        "storm": (max(1, args.storm // args.size), args.size),
        "fixed": (args.rooms or max(1, math.ceil(conns / args.size)), args.size),
        "saturate": (args.sat_rooms, args.size),
        "unicast": (args.unicast_rooms, args.size),
    }


async def amain(args: argparse.Namespace) -> dict:
    runs = []
    for rep in range(args.reps):
        for name in args.targets:
            target = Target(name, args, args.fixture)
            runs.append(await run_target(target, args, rep))
    return {"runs": runs, "summary": summarise(runs, args.targets)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    benchlib.raise_fd_limit()
    args.workdir = benchlib.scratch_dir("signaling-")
    args.fixture = None
    if any(TARGETS[t]["kind"] == "meet" for t in args.targets):
        print("preparing the meet database (migrate, users, sessions)...", file=sys.stderr)
        args.fixture = benchlib.prepare_meet_database(args.workdir, fixture_pools(args))
    if any(TARGETS[t]["kind"] == "bare-node" for t in args.targets):
        benchlib.ensure_node_modules()
    benchlib.pin_self(args.client_cpus)
    started = time.monotonic()
    if args.loop == "uvloop":
        import uvloop

        data = uvloop.run(amain(args))
    else:
        data = asyncio.run(amain(args))
    config = {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in vars(args).items()
        if k not in {"fixture", "workdir"}
    }
    data = {"config": config, "wall_seconds": time.monotonic() - started, **data}
    path = benchlib.write_result("signaling", data, args.out)
    print(markdown(data["summary"], args.targets))
    print(f"\nresult: {path}")
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
