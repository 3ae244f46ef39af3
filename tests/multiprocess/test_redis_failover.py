"""A live call through Redis trouble, with real parts: two daphne processes,
real redis-server processes (a primary, its replica and a Sentinel, or one
Redis that restarts empty) and signaling clients that behave like browsers.

The call must not notice: the sockets stay open, nobody is announced as gone,
relaying between the existing sockets works again, a newcomer gets in, and
the room page's count is right.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from signaling.groups import room_group
from signaling.live import participant_counts
from tests.sentinel import MASTER, SentinelSetup, wait_sync
from tests.servers import DaphneServer, RedisServer
from tests.test_settings import in_child

from .conftest import Meeting, WsPeer, server_env

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
# Generous bounds for things that happen by themselves (seconds): failing over
# takes Sentinel's down-after (1 s here) and an election; a newcomer must get
# in within 10 s of it.
FAILOVER_WITHIN = 30.0
NEWCOMER_WITHIN = 10.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float) -> None:
    """Await ``check`` until it holds, letting the clients' pings run meanwhile."""
    async with asyncio.timeout(within):
        while True:
            try:
                if await check():
                    return
            except redis.RedisError:
                pass  # the server being asked is itself still coming up
            await asyncio.sleep(0.05)


@pytest.fixture
def daphne_pair(
    transactional_db: None, artifacts_dir: Path
) -> Iterator[Callable[..., tuple[DaphneServer, DaphneServer]]]:
    started: list[DaphneServer] = []

    def start(layer: str, redis_url: str = "", **extra: str) -> tuple[DaphneServer, DaphneServer]:
        env = server_env(redis_url, layer, **extra)
        pair = (
            DaphneServer(artifacts_dir / "daphne", env=env),
            DaphneServer(artifacts_dir / "daphne", env=env),
        )
        for server in pair:
            started.append(server)
            server.start()
        return pair

    yield start
    for server in started:
        server.stop()


async def subscribers(redis_port: int, room_id: int) -> int:
    """How many processes are subscribed to the room's group on that Redis
    (pub/sub layer): each one's subscriber connection is back once it counts."""
    client = aioredis.Redis(port=redis_port)
    try:
        ((_, count),) = await client.pubsub_numsub(f"meet__group__{room_group(room_id)}")
    finally:
        await client.aclose()
    return int(count)


async def counts(room_id: int) -> dict[int, int]:
    return await asyncio.to_thread(participant_counts, [room_id])


async def three_in_a_call(
    meeting: Meeting, a: DaphneServer, b: DaphneServer, peers: Any
) -> tuple[WsPeer, WsPeer, WsPeer]:
    slug = meeting.room.slug
    host = await peers(a, slug, meeting.host.session)
    await host.join()
    alex = await peers(b, slug, meeting.members[0].session)
    await alex.join()
    sam = await peers(a, slug, meeting.members[1].session)
    await sam.join(state={"muted": True, "camera": True, "screen": False, "hand": True})
    for frame in (await host.expect("peer-joined"), await host.expect("peer-joined")):
        assert frame["peer"]["peer"] in {alex.peer, sam.peer}
    await alex.expect("peer-joined")
    return host, alex, sam


async def relaying_works_between(pairs: list[tuple[WsPeer, WsPeer]], marker: str) -> None:
    """Each sender's offer reaches its addressee as the next frame it gets:
    nothing (no peer-left, no close) came before it."""
    for sender, receiver in pairs:
        sdp = f"{SDP}{marker}-{sender.peer}"
        await sender.send({"type": "offer", "to": receiver.peer, "sdp": sdp})
    for sender, receiver in pairs:
        sdp = f"{SDP}{marker}-{sender.peer}"
        assert await receiver.recv() == {"type": "offer", "from": sender.peer, "sdp": sdp}


@pytest.mark.parametrize("how", ["killed", "failover command"])
async def test_a_call_survives_a_sentinel_failover(
    how: str,
    sentinel_setup: SentinelSetup,
    daphne_pair,
    meeting: Meeting,
    peers,
    settings: Any,
):
    a, b = daphne_pair("pubsub", **sentinel_setup.env())
    settings.REDIS_URL = ""
    settings.REDIS_SENTINELS = [("127.0.0.1", sentinel_setup.sentinel.port)]
    settings.REDIS_SENTINEL_MASTER = MASTER
    room_id = meeting.room.pk
    host, alex, sam = await three_in_a_call(meeting, a, b, peers)
    await relaying_works_between([(alex, host), (host, sam), (sam, alex)], "before")
    assert await counts(room_id) == {room_id: 3}

    old = sentinel_setup.primary.port
    if how == "killed":
        sentinel_setup.primary.kill()
    else:
        with redis.Redis(port=sentinel_setup.sentinel.port) as client:
            client.execute_command("SENTINEL", "FAILOVER", MASTER)

    async def promoted() -> bool:
        return await sentinel_setup.master_port() != old

    await eventually(promoted, "Sentinel never promoted the replica", FAILOVER_WITHIN)
    new = await sentinel_setup.master_port()
    assert new == sentinel_setup.replica.port

    # Both processes find the new primary by themselves and subscribe there
    # again (what was published while they reconnected is lost: pub/sub).
    async def both_resubscribed() -> bool:
        return await subscribers(new, room_id) == 2

    await eventually(both_resubscribed, "a process never re-subscribed", FAILOVER_WITHIN)
    await relaying_works_between([(alex, host), (host, sam), (sam, alex)], "after")

    slug = meeting.room.slug
    jo = await peers(b, slug, meeting.members[2].session)
    await jo.send({"type": "join"})
    welcome = await jo.expect("welcome", within=NEWCOMER_WITHIN)
    jo.welcome = welcome
    seated = {peer["peer"]: peer for peer in welcome["peers"]}
    assert set(seated) == {host.peer, alex.peer, sam.peer}
    assert seated[sam.peer]["state"]["hand"] is True
    for member in (host, alex, sam):
        joined = await member.expect("peer-joined")
        assert joined["peer"]["peer"] == jo.peer
    await relaying_works_between([(jo, host), (alex, jo)], "newcomer")
    assert await counts(room_id) == {room_id: 4}


@pytest.mark.parametrize("layer", ["pubsub", "core"])
async def test_a_call_survives_a_redis_restart_that_loses_every_key(
    layer: str, tmp_path: Path, daphne_pair, meeting: Meeting, peers, settings: Any
):
    """Nothing on disk: the restarted Redis knows no seat, no group, no epoch.
    Every process puts its live sockets' seats back within a sweep; a peer
    who left while Redis was down is announced to the others as gone."""
    first = RedisServer(tmp_path / "redis")
    first.start()
    restarted: RedisServer | None = None
    try:
        a, b = daphne_pair(layer, first.url)
        settings.REDIS_URL = first.url
        room_id = meeting.room.pk
        host, alex, sam = await three_in_a_call(meeting, a, b, peers)
        await relaying_works_between([(alex, host), (host, sam)], "before")
        assert await counts(room_id) == {room_id: 3}

        first.kill()
        # Sam leaves while Redis is down: the seat cannot be given up, nor announced.
        await sam.close()
        restarted = RedisServer(tmp_path / "redis", port=first.port)
        restarted.start()

        async def seats_back() -> bool:
            return await counts(room_id) == {room_id: 2}

        await eventually(seats_back, "the seats never came back", 10.0)
        for member, other in ((host, alex), (alex, host)):
            gone = await member.expect("peer-left", peer=sam.peer)
            assert gone["reason"] == "timeout"
            assert other.ws.state.name == "OPEN"

        if layer == "pubsub":

            async def both_resubscribed() -> bool:
                return await subscribers(restarted.port, room_id) == 2

            await eventually(both_resubscribed, "a process never re-subscribed", 10.0)
        await relaying_works_between([(alex, host), (host, alex)], "after")

        jo = await peers(b, meeting.room.slug, meeting.members[2].session)
        await jo.join()
        assert {peer["peer"] for peer in jo.welcome["peers"]} == {host.peer, alex.peer}
        for member in (host, alex):
            joined = await member.expect("peer-joined")
            assert joined["peer"]["peer"] == jo.peer
        assert await counts(room_id) == {room_id: 3}
    finally:
        first.stop()
        if restarted is not None:
            restarted.stop()


def test_the_cache_follows_the_primary_through_a_failover(sentinel_setup: SentinelSetup):
    """Sessions and login rate limits live in the cache: it must find the new
    primary the way the channel layer and presence do."""
    env = sentinel_setup.env()
    in_child("from django.core.cache import cache; cache.set('attempts', 3, 600)", **env)
    assert has_key(sentinel_setup.primary, "attempts")
    wait_sync(
        lambda: has_key(sentinel_setup.replica, "attempts"), "the key never reached the replica"
    )
    sentinel_setup.primary.kill()
    seen = in_child(
        "from django.core.cache import cache; print(cache.get('attempts')); "
        "cache.set('after', 1, 600)",
        **env,
    )
    assert seen == "3"
    assert has_key(sentinel_setup.replica, "after")


def has_key(server: RedisServer, name: str) -> bool:
    with redis.Redis(port=server.port) as client:
        return bool(client.keys(f"*{name}*"))
