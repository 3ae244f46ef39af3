"""Presence through Redis trouble: seats put back after a data loss, nobody
reaped for an outage, retried commands harmless (Redis: the private test server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from signaling.presence import Entry, MemoryPresence, Presence, RedisPresence

from .test_presence import ROOM, TTL, entry


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    if request.param == "memory":
        yield MemoryPresence()
        return
    store = RedisPresence(request.getfixturevalue("redis_url"), prefix="test:presence")
    yield store
    await store.aclose()


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisPresence]:
    redis_store = RedisPresence(redis_url, prefix="test:presence")
    yield redis_store
    await redis_store.aclose()


async def lose_everything(redis_url: str) -> None:
    """What a Redis that restarts with nothing on disk looks like."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.flushall()
    finally:
        await client.aclose()


async def test_a_lost_seat_comes_back_as_it_was(backend, request: pytest.FixtureRequest):
    alice = entry("a", 1, name="민지", host=True, state={"muted": True, "camera": False})
    await backend.join(ROOM, alice, capacity=4, ttl=TTL)
    await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    if isinstance(backend, RedisPresence):
        await lose_everything(request.getfixturevalue("redis_url"))
        assert await backend.count([ROOM]) == {}
        assert (await backend.reassert(ROOM, alice, TTL)).status == "restored"
    else:
        assert (await backend.reassert(ROOM, alice, TTL)).status == "present"
    back = await backend.reassert(ROOM, entry("b", 2), TTL)
    assert back.status in {"restored", "present"}
    assert [peer.peer for peer in back.peers] == ["a"]
    restored = back.peers[0]
    assert (restored.name, restored.host, restored.state) == ("민지", True, alice.state)
    assert await backend.count([ROOM]) == {ROOM: 2}
    # Again: nothing changes, the seat is only refreshed.
    assert (await backend.reassert(ROOM, alice, TTL)).status == "present"
    assert await backend.peer_ids(ROOM) == {"a", "b"}


@pytest.mark.redis
async def test_a_newer_seat_of_the_same_account_wins_over_a_reasserted_one(
    store: RedisPresence, redis_url: str
):
    await store.join(ROOM, entry("old", 1), capacity=4, ttl=TTL)
    await lose_everything(redis_url)
    await store.join(ROOM, entry("new", 1), capacity=4, ttl=TTL)
    result = await store.reassert(ROOM, entry("old", 1), TTL)
    assert result.status == "replaced"
    assert await store.peer_ids(ROOM) == {"new"}


@pytest.mark.redis
async def test_reasserting_ignores_the_cap_the_seat_was_already_counted_in(
    store: RedisPresence, redis_url: str
):
    await store.join(ROOM, entry("a", 1), capacity=2, ttl=TTL)
    await store.join(ROOM, entry("b", 2), capacity=2, ttl=TTL)
    await lose_everything(redis_url)
    await store.join(ROOM, entry("c", 3), capacity=2, ttl=TTL)
    await store.join(ROOM, entry("d", 4), capacity=2, ttl=TTL)
    assert (await store.reassert(ROOM, entry("a", 1), TTL)).status == "restored"
    assert await store.count([ROOM]) == {ROOM: 3}


@pytest.mark.redis
async def test_the_epoch_changes_when_and_only_when_the_data_is_lost(
    store: RedisPresence, redis_url: str
):
    first = await store.epoch()
    await store.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    assert await store.epoch() == first
    await lose_everything(redis_url)
    second = await store.epoch()
    assert second != first
    assert await store.epoch() == second


@pytest.mark.redis
async def test_nobody_is_reaped_for_the_time_nobody_could_refresh(store: RedisPresence):
    """An outage longer than the TTL (every refresh failed) costs nobody a seat."""
    await store.join(ROOM, entry("a", 1), capacity=4, ttl=0.2)
    await store.join(ROOM, entry("b", 2), capacity=4, ttl=0.2)
    await asyncio.sleep(0.4)  # nobody in the room refreshed: the outage
    present, reaped = await store.refresh(ROOM, "a", 0.2)
    assert present
    assert reaped == []
    assert await store.count([ROOM]) == {ROOM: 2}


@pytest.mark.redis
async def test_a_peer_that_stopped_refreshing_alone_is_still_reaped(store: RedisPresence):
    await store.join(ROOM, entry("a", 1), capacity=4, ttl=0.2)
    await store.join(ROOM, entry("ghost", 2), capacity=4, ttl=0.2)
    reaped: list[Entry] = []
    async with asyncio.timeout(5):
        while not reaped:
            await asyncio.sleep(0.05)  # a's connection refreshes every tick
            _, reaped = await store.refresh(ROOM, "a", 0.2)
    assert [gone.peer for gone in reaped] == ["ghost"]


async def test_a_retried_join_does_not_replace_itself(backend):
    alice = entry("a", 1)
    await backend.join(ROOM, alice, capacity=4, ttl=TTL)
    again = await backend.join(ROOM, alice, capacity=4, ttl=TTL)
    assert again.admitted
    assert again.replaced == []
    assert await backend.count([ROOM]) == {ROOM: 1}


async def test_a_reasserted_seat_keeps_its_place_in_the_join_order(
    backend, request: pytest.FixtureRequest
):
    """Who has been in the call longest (the acting host) survives a data loss."""
    first = await backend.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    second = await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    if isinstance(backend, RedisPresence):
        await lose_everything(request.getfixturevalue("redis_url"))
    else:
        await backend.leave(ROOM, "a")
        await backend.leave(ROOM, "b")
    # The later joiner's process happens to put its seat back first.
    for peer, user, seq in (("b", 2, second.seq), ("a", 1, first.seq)):
        seat = Entry(**{**entry(peer, user).to_dict(), "seq": seq})
        assert (await backend.reassert(ROOM, seat, TTL)).status == "restored"
    assert [(e.peer, e.seq) for e in await backend.entries(ROOM)] == [
        ("a", first.seq),
        ("b", second.seq),
    ]
