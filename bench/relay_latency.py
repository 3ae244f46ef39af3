#!/usr/bin/env python3
"""Relay latency through two daphne processes and Redis, for each channel layer.

Starts everything on loopback (a private redis-server, a scratch SQLite
database, two daphne processes per layer), puts ``--rooms`` pairs of members
in separate rooms with one member of each pair on each process, and has every
pair relay offers one way at ``--rate`` messages per second in total. Each
offer carries its send time; the receiver records the one-way latency (same
machine, same clock). Prints p50/p99/max and losses per layer as JSON.

    python bench/relay_latency.py [--rate 400] [--rooms N] [--seconds 10]

Each sender stays under the per-connection rate limit (40 msg/s by default),
so "lost" means lost or later than a second, never rate-limited.

A first look for choosing the channel layer (docs/deployment.md), not the
full benchmark. Stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database(path: Path, rooms: int) -> list[tuple[str, str, str]]:
    """Migrate a scratch database; one room per pair. Returns (slug, session a, session b)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from rooms import services
    from rooms.models import Membership

    call_command("migrate", verbosity=0)

    def session(user: User) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    pairs = []
    for index in range(rooms):
        a = User.objects.create_user(f"a{index}", password="pw")
        b = User.objects.create_user(f"b{index}", password="pw")
        room = services.room_create(owner=a, name=f"bench {index}", max_participants=2)
        Membership.objects.create(room=room, user=b)
        pairs.append((room.slug, session(a), session(b)))
    return pairs


async def measure(
    urls: tuple[str, str], pairs: list[tuple[str, str, str]], rate: float, seconds: float
) -> dict:
    from websockets.asyncio.client import connect

    async def open_(url: str, slug: str, session: str):
        ws = await connect(
            f"{url.replace('http', 'ws', 1)}/ws/rooms/{slug}/",
            origin=url,  # type: ignore[arg-type]
            additional_headers={"Cookie": f"sessionid={session}"},
        )
        await ws.send(json.dumps({"type": "join"}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        return ws, welcome["peer"]

    latencies: list[float] = []
    sent = 0
    per_pair = rate / len(pairs)

    async def pair(slug: str, session_a: str, session_b: str) -> None:
        nonlocal sent
        a, _ = await open_(urls[0], slug, session_a)
        b, peer_b = await open_(urls[1], slug, session_b)
        await a.recv()  # peer-joined: a's server now knows b

        async def receive() -> None:
            with contextlib.suppress(Exception):
                async for raw in b:
                    frame = json.loads(raw)
                    if frame["type"] == "offer":
                        latencies.append(time.monotonic() - float(frame["sdp"].split("\n", 1)[1]))

        reader = asyncio.create_task(receive())
        interval, deadline = 1 / per_pair, time.monotonic() + seconds
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            await a.send(json.dumps({"type": "offer", "to": peer_b,
                                     "sdp": f"v=0\r\n{time.monotonic():.6f}"}))  # fmt: skip
            sent += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.sleep(1.0)  # stragglers
        reader.cancel()
        await a.close()
        await b.close()

    await asyncio.gather(*(pair(*p) for p in pairs))
    ordered = sorted(latencies) or [float("nan")]

    def ms(value: float) -> float:
        return round(value * 1000, 2)

    return {
        "sent": sent,
        "received": len(latencies),
        "lost": sent - len(latencies),
        "p50_ms": ms(statistics.median(ordered)),
        "p99_ms": ms(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
        "max_ms": ms(ordered[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=400, help="messages/s in total")
    parser.add_argument(
        "--rooms", type=int, help="pairs, one room each (default: 40 msg/s per sender, under RATE)"
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--layers", default="core,pubsub")
    args = parser.parse_args()
    args.rooms = args.rooms or max(2, math.ceil(args.rate / 40))

    from tests.servers import DaphneServer, RedisServer

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        pairs = prepare_database(work / "bench.sqlite3", args.rooms)
        results = {}
        with RedisServer(work / "redis") as redis_server:
            import redis

            flush = redis.Redis.from_url(redis_server.url)
            for layer in args.layers.split(","):
                flush.flushall()
                env = {
                    "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
                    "REDIS_URL": redis_server.url,
                    "CHANNEL_LAYER": layer,
                    "LOG_LEVEL": "WARNING",
                }
                logs = ROOT / "bench" / "results" / "logs"
                first = DaphneServer(logs, env=env)
                second = DaphneServer(logs, env=env)
                with first, second:
                    results[layer] = asyncio.run(
                        measure((first.url, second.url), pairs, args.rate, args.seconds)
                    )
        print(json.dumps({"rate": args.rate, "rooms": args.rooms, **results}, indent=2))


if __name__ == "__main__":
    main()
