#!/usr/bin/env python3
"""Attack a meet signaling server while two members keep talking, and report.

Two well-behaved members join a room and exchange offer/answer/candidate
round trips for the whole run. Meanwhile a hostile client tries everything
docs/protocol.md says must not disturb them: anonymous and foreign-origin
sockets, a signed-in outsider, unknown rooms, forged senders, garbage, binary
and oversize frames, relays to unknown peers, host-only commands, and a
flood. The run fails if any attack is not refused the documented way, or if
the members' exchange ever breaks (a close, a lost or forged message, or a
stall).

    python bench/hostile.py --url ws://127.0.0.1:8000 --room xkq-mdwt-pzr \\
        --member SESSION_A --member SESSION_B --attacker SESSION_C \\
        [--outsider SESSION_D] [--duration 10]

Sessions are ``sessionid`` cookie values: the two members and the attacker
must be members of the room (the attacker not a host), the outsider signed in
but not a member. Prints a JSON report; exits 1 on any failure. Only ever
talks to the URL given, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

# A stall longer than this between two completed round trips counts as broken.
MAX_GAP = 2.0
GARBAGE = [
    "{not json",
    "[]",
    '"join"',
    "",
    "[" * 20_000 + "]" * 20_000,
    '{"type": "teleport"}',
    '{"type": 7}',
    '{"type": "offer", "to": 5, "sdp": "v=0"}',
    '{"type": "offer", "to": "x"}',
    '{"type": "candidate", "to": "x", "candidate": {"candidate": 1}}',
    '{"type": "candidate", "to": "x", "candidate": {"candidate": "c", "sdpMLineIndex": 1e9}}',
    '{"type": "state", "state": {"muted": "yes"}}',
    '{"type": "ping", "ref": {"a": 1}}',
    '{"type": "ping", "x": ' + "9" * 5000 + "}",
    '{"type": "join", "name": "' + "x" * 100 + '"}',
]


class Server:
    def __init__(self, url: str, room: str, origin: str) -> None:
        self.url = url.rstrip("/")
        self.room = room
        self.origin = origin

    async def open(
        self, session: str | None, *, room: str | None = None, origin: str | None = None
    ) -> ClientConnection:
        headers = {"Cookie": f"sessionid={session}"} if session else {}
        return await connect(
            f"{self.url}/ws/rooms/{room or self.room}/",
            origin=origin or self.origin,  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=10,
            max_size=None,
        )


async def next_frame(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") != "pong":
                return frame


async def close_code(ws: ClientConnection, within: float = 10.0) -> int | None:
    """Read until the server closes; its close code."""
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


@dataclass
class Exchange:
    """Two members' round trips: A offers to B, B answers, with candidates."""

    round_trips: int = 0
    rtts: list[float] = field(default_factory=list)
    max_gap: float = 0.0
    violations: list[str] = field(default_factory=list)
    member_closes: list[str] = field(default_factory=list)
    attacker_frames_seen: int = 0
    forged_seen_as_attacker: int = 0


class Members:
    def __init__(self, server: Server, sessions: list[str], report: Exchange) -> None:
        self.server = server
        self.sessions = sessions
        self.report = report
        self.answers: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
        self.stop = asyncio.Event()

    async def start(self) -> None:
        self.a = await self.server.open(self.sessions[0])
        self.b = await self.server.open(self.sessions[1])
        await self.a.send(json.dumps({"type": "join", "name": "member A"}))
        self.welcome_a = await next_frame(self.a)
        await self.b.send(json.dumps({"type": "join", "name": "member B"}))
        self.welcome_b = await next_frame(self.b)
        if self.welcome_a.get("type") != "welcome" or self.welcome_b.get("type") != "welcome":
            raise SystemExit(f"members could not join: {self.welcome_a} {self.welcome_b}")
        self.peer_a, self.peer_b = self.welcome_a["peer"], self.welcome_b["peer"]
        # A may address B only once A's server knows B: after A's peer-joined.
        while (frame := await next_frame(self.a)).get("type") != "peer-joined":
            pass
        if frame["peer"]["peer"] != self.peer_b:
            raise SystemExit(f"unexpected peer in the room: {frame}")
        heartbeat = float(self.welcome_a["heartbeat"])
        self.tasks = [
            asyncio.create_task(self.read("A", self.a, self.peer_b)),
            asyncio.create_task(self.read("B", self.b, self.peer_a)),
            asyncio.create_task(self.ping(self.a, heartbeat)),
            asyncio.create_task(self.ping(self.b, heartbeat)),
        ]

    async def ping(self, ws: ClientConnection, interval: float) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                await ws.send('{"type":"ping"}')

    async def read(self, name: str, ws: ClientConnection, partner: str) -> None:
        """Check every frame a member receives; B answers A's offers."""
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind, sender = frame.get("type"), frame.get("from")
                if kind not in {"offer", "answer", "candidate"}:
                    continue
                payload = json.dumps(frame.get("sdp") or frame.get("candidate"))
                if sender != partner:
                    self.report.attacker_frames_seen += 1
                    if "FORGED" in payload:
                        self.report.forged_seen_as_attacker += 1
                    continue
                if "FORGED" in payload:
                    self.report.violations.append(f"{name} got a forged frame as from its partner")
                    continue
                if name == "B" and kind == "offer":
                    seq = int(frame["sdp"].rsplit("seq:", 1)[1])
                    await ws.send(json.dumps({"type": "answer", "to": partner,
                                              "sdp": f"v=0\r\na=seq:{seq}"}))  # fmt: skip
                elif name == "A" and kind == "answer":
                    seq = int(frame["sdp"].rsplit("seq:", 1)[1])
                    await self.answers.put((seq, time.monotonic()))
        except ConnectionClosed as closed:
            if not self.stop.is_set():
                code = closed.rcvd.code if closed.rcvd else None
                self.report.member_closes.append(f"{name} closed with {code}")
                self.answers.put_nowait((-1, time.monotonic()))

    async def run(self) -> None:
        """Round trips until stopped; each must complete within MAX_GAP."""
        seq, last = 0, time.monotonic()
        while not self.stop.is_set():
            seq += 1
            sent = time.monotonic()
            candidate = {"candidate": f"candidate:{seq} 1 udp 1 127.0.0.1 9 typ host",
                         "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "u"}  # fmt: skip
            try:
                await self.a.send(json.dumps({"type": "offer", "to": self.peer_b,
                                              "sdp": f"v=0\r\na=seq:{seq}"}))  # fmt: skip
                await self.a.send(json.dumps({"type": "candidate", "to": self.peer_b,
                                              "candidate": candidate}))  # fmt: skip
                async with asyncio.timeout(MAX_GAP):
                    got, at = await self.answers.get()
            except (TimeoutError, ConnectionClosed):
                self.report.violations.append(f"round trip {seq} did not complete in {MAX_GAP}s")
                return
            if got != seq:
                self.report.violations.append(f"round trip {seq} answered as {got}")
                return
            self.report.round_trips += 1
            self.report.rtts.append(at - sent)
            self.report.max_gap = max(self.report.max_gap, at - last)
            last = at
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            task.cancel()
        await self.a.close()
        await self.b.close()


async def attack(server: Server, args: argparse.Namespace, peers: tuple[str, str]) -> list[dict]:
    """Every hostile behaviour once; each result says what was expected and seen."""
    results: list[dict] = []

    def record(name: str, expected: Any, got: Any) -> None:
        results.append({"attack": name, "expected": expected, "got": got, "ok": got == expected})

    async def refused(name: str, session: str | None, expected: int, **kw: Any) -> None:
        ws = await server.open(session, **kw)
        record(name, expected, await close_code(ws))

    await refused("anonymous socket", None, 4401)
    await refused("garbage session cookie", "not-a-session", 4401)
    if args.outsider:
        await refused("signed-in non-member", args.outsider, 4403)
    await refused("unknown room", args.attacker, 4404, room="zzz-zzzz-zzz")
    await refused("foreign origin", args.attacker, 4003, origin="http://evil.example")

    # In the room, as a member: forged senders, garbage, wrong targets, host commands.
    ws = await server.open(args.attacker)
    await ws.send(json.dumps({"type": "join", "name": "attacker"}))
    welcome = await next_frame(ws)
    record("attacker joins as a member", "welcome", welcome.get("type"))
    a, b = peers
    for target, claimed in ((a, b), (b, a)):
        await ws.send(json.dumps({"type": "offer", "to": target, "from": claimed,
                                  "sdp": "v=0\r\na=FORGED"}))  # fmt: skip
        await ws.send(json.dumps({"type": "candidate", "to": target, "from": claimed,
                                  "candidate": {"candidate": "FORGED"}}))  # fmt: skip
    codes = []
    for text in GARBAGE:
        await ws.send(text)
        codes.append((await next_frame(ws)).get("code"))
    record(
        "garbage frames answered with errors", "all errors", "all errors" if all(codes) else codes
    )
    for frame, code in (
        ({"type": "offer", "to": "Vx3k9QmT2pLa", "sdp": "v=0"}, "unknown-peer"),
        ({"type": "offer", "to": welcome.get("peer"), "sdp": "v=0"}, "unknown-peer"),
        ({"type": "kick", "peer": a}, "forbidden"),
        ({"type": "end"}, "forbidden"),
        ({"type": "join"}, "already-joined"),
    ):
        await ws.send(json.dumps(frame))
        record(f"{frame['type']} → {code}", code, (await next_frame(ws)).get("code"))
    await ws.send('{"type":"ping"}')
    record("socket still usable after all that", "pong",
           json.loads(await asyncio.wait_for(ws.recv(), 5)).get("type"))  # fmt: skip
    await ws.close()

    ws = await server.open(args.attacker)
    await ws.send(b"\x00\x01binary")
    record("binary frame", 4400, await close_code(ws))

    ws = await server.open(args.attacker)
    await ws.send(json.dumps({"type": "join"}))
    await next_frame(ws)
    await ws.send(json.dumps({"type": "offer", "to": a, "sdp": "x" * (80 * 1024)}))
    record("oversize frame", 4413, await close_code(ws))

    ws = await server.open(args.attacker)
    for _ in range(25):
        await ws.send("not json")
    record("too many invalid frames", 4400, await close_code(ws))

    # The flood: offers to member A as fast as the socket takes them.
    ws = await server.open(args.attacker)
    await ws.send(json.dumps({"type": "join"}))
    await next_frame(ws)
    flood = json.dumps({"type": "offer", "to": a, "sdp": "v=0\r\na=flood"})
    with contextlib.suppress(ConnectionClosed):
        for _ in range(args.flood):
            await ws.send(flood)
    record("flood", 4429, await close_code(ws))

    # Connection churn: open and drop sockets quickly.
    for _ in range(20):
        ws = await server.open(args.attacker)
        await ws.close()
    record("connection churn", "done", "done")
    return results


async def main(args: argparse.Namespace) -> dict[str, Any]:
    server = Server(args.url, args.room, args.origin or args.url.replace("ws", "http", 1))
    exchange = Exchange()
    members = Members(server, args.member, exchange)
    await members.start()
    runner = asyncio.create_task(members.run())
    started = time.monotonic()
    try:
        results = await attack(server, args, (members.peer_a, members.peer_b))
        remaining = args.duration - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.wait({runner}, timeout=remaining)
    finally:
        members.stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(runner, MAX_GAP + 1)
        await members.close()
    rtts = sorted(exchange.rtts) or [0.0]
    ok = (
        all(result["ok"] for result in results)
        and not exchange.violations
        and not exchange.member_closes
        and exchange.round_trips > 0
        and exchange.max_gap < MAX_GAP
    )
    return {
        "ok": ok,
        "attacks": results,
        "exchange": {
            "round_trips": exchange.round_trips,
            "rtt_ms_p50": round(statistics.median(rtts) * 1000, 2),
            "rtt_ms_max": round(rtts[-1] * 1000, 2),
            "max_gap_ms": round(exchange.max_gap * 1000, 2),
            "violations": exchange.violations,
            "member_closes": exchange.member_closes,
            "attacker_frames_seen_by_members": exchange.attacker_frames_seen,
            "forged_frames_stamped_with_attacker": exchange.forged_seen_as_attacker,
        },
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="ws://host:port of the server")
    parser.add_argument("--room", required=True, help="meeting code")
    parser.add_argument("--member", action="append", required=True,
                        help="session of a well-behaved member (give two)")  # fmt: skip
    parser.add_argument("--attacker", required=True, help="session of a (non-host) member")
    parser.add_argument("--outsider", help="session of a signed-in non-member")
    parser.add_argument("--origin", help="Origin header (default: the server's http URL)")
    parser.add_argument("--duration", type=float, default=10.0, help="minimum seconds")
    parser.add_argument("--flood", type=int, default=2000, help="frames in the flood")
    args = parser.parse_args(argv)
    if len(args.member) != 2:
        parser.error("give --member twice (two different accounts)")
    return args


if __name__ == "__main__":
    report = asyncio.run(main(parse_args()))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    sys.exit(0 if report["ok"] else 1)
