"""Both presence backends against the same contract (Redis: the private test server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from signaling import presence
from signaling.presence import Entry, MemoryPresence, Presence, RedisPresence

ROOM = 7
TTL = 30.0


def entry(peer: str, user: int, **fields) -> Entry:
    return Entry(
        peer=peer,
        user=user,
        channel=f"specific.test!{peer}",
        name=fields.pop("name", f"user {user}"),
        host=fields.pop("host", False),
        state=fields.pop("state", {"muted": False, "camera": True}),
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    if request.param == "memory":
        yield MemoryPresence()
        return
    store = RedisPresence(request.getfixturevalue("redis_url"), prefix="test:presence")
    yield store
    await store.aclose()


async def test_join_returns_the_others_in_join_order(backend: Presence):
    for index, peer in enumerate(["a", "b", "c"]):
        result = await backend.join(ROOM, entry(peer, index), capacity=4, ttl=TTL)
        assert result.admitted
        assert [e.peer for e in result.peers] == ["a", "b", "c"][:index]
    result = await backend.join(ROOM, entry("d", 9, name="민지"), capacity=4, ttl=TTL)
    assert [e.peer for e in result.peers] == ["a", "b", "c"]
    assert result.peers[0].channel == "specific.test!a"
    assert await backend.count([ROOM, 99]) == {ROOM: 4}


async def test_entries_survive_a_round_trip_unchanged(backend: Presence):
    original = entry("a", 1, name="민지 🎥", host=True, state={"muted": True, "hand": False})
    await backend.join(ROOM, original, capacity=4, ttl=TTL)
    result = await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    (seen,) = result.peers
    assert (seen.peer, seen.user, seen.channel, seen.name, seen.host, seen.state) == (
        original.peer,
        original.user,
        original.channel,
        original.name,
        original.host,
        original.state,
    )


async def test_cap_holds_under_concurrent_joins(backend: Presence):
    results = await asyncio.gather(
        *(backend.join(ROOM, entry(f"p{i}", i), capacity=3, ttl=TTL) for i in range(10))
    )
    assert sum(result.admitted for result in results) == 3
    assert await backend.count([ROOM]) == {ROOM: 3}


async def test_full_room_refuses_and_changes_nothing(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=2, ttl=TTL)
    await backend.join(ROOM, entry("b", 2), capacity=2, ttl=TTL)
    result = await backend.join(ROOM, entry("c", 3), capacity=2, ttl=TTL)
    assert not result.admitted
    assert result.replaced == []
    assert await backend.leave(ROOM, "c") is None


async def test_same_user_replaces_without_taking_a_seat(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=2, ttl=TTL)
    await backend.join(ROOM, entry("old", 2), capacity=2, ttl=TTL)
    result = await backend.join(ROOM, entry("new", 2), capacity=2, ttl=TTL)
    assert result.admitted
    assert [e.peer for e in result.replaced] == ["old"]
    assert [e.peer for e in result.peers] == ["a"]
    assert await backend.leave(ROOM, "old") is None
    assert await backend.count([ROOM]) == {ROOM: 2}


async def test_same_user_racing_itself_ends_with_one_seat(backend: Presence):
    results = await asyncio.gather(
        *(backend.join(ROOM, entry(f"tab{i}", 5), capacity=2, ttl=TTL) for i in range(6))
    )
    assert all(result.admitted for result in results)
    assert sum(len(result.replaced) for result in results) == 5
    assert await backend.count([ROOM]) == {ROOM: 1}


async def test_leave_removes_exactly_once(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    outcomes = await asyncio.gather(*(backend.leave(ROOM, "a") for _ in range(5)))
    assert [e.peer for e in outcomes if e is not None] == ["a"]
    assert await backend.count([ROOM]) == {}


async def test_expired_entries_are_reaped_once_by_join_or_refresh(backend: Presence):
    await backend.join(ROOM, entry("ghost", 1), capacity=2, ttl=0.05)
    await backend.join(ROOM, entry("alive", 2), capacity=2, ttl=TTL)
    await asyncio.sleep(0.1)
    assert await backend.count([ROOM]) == {ROOM: 1}  # expired entries are not counted
    present, reaped = await backend.refresh(ROOM, "alive", TTL)
    assert present
    assert [e.peer for e in reaped] == ["ghost"]
    assert await backend.refresh(ROOM, "alive", TTL) == (True, [])
    # An expired seat frees its place for a newcomer, who is told to announce it.
    await backend.join(ROOM, entry("ghost2", 3), capacity=2, ttl=0.05)
    await asyncio.sleep(0.1)
    result = await backend.join(ROOM, entry("new", 4), capacity=2, ttl=TTL)
    assert result.admitted
    assert [e.peer for e in result.reaped] == ["ghost2"]


async def test_an_access_change_is_remembered_for_a_while_per_room(
    backend: Presence, monkeypatch: pytest.MonkeyPatch
):
    assert await backend.access_changed_lately(room_id=ROOM, user_id=None) == set()
    backend.note_access_change_sync(room_id=ROOM)
    assert await backend.access_changed_lately(room_id=ROOM, user_id=None) == {"room"}
    assert await backend.access_changed_lately(room_id=ROOM, user_id=7) == {"room"}
    assert await backend.access_changed_lately(room_id=ROOM + 1, user_id=None) == set()
    monkeypatch.setattr(presence, "CHANGED_FOR", 0.05)
    backend.note_access_change_sync(room_id=ROOM + 1)
    await asyncio.sleep(0.1)
    assert await backend.access_changed_lately(room_id=ROOM + 1, user_id=None) == set()
    assert await backend.access_changed_lately(room_id=ROOM, user_id=None) == {"room"}


async def test_a_logout_is_remembered_for_a_while_per_user_in_every_room(
    backend: Presence, monkeypatch: pytest.MonkeyPatch
):
    backend.note_access_change_sync(user_id=7)
    assert await backend.access_changed_lately(room_id=ROOM, user_id=7) == {"user"}
    assert await backend.access_changed_lately(room_id=ROOM + 1, user_id=7) == {"user"}
    assert await backend.access_changed_lately(room_id=ROOM, user_id=8) == set()
    assert await backend.access_changed_lately(room_id=ROOM, user_id=None) == set()
    backend.note_access_change_sync(room_id=ROOM)
    assert await backend.access_changed_lately(room_id=ROOM, user_id=7) == {"room", "user"}
    monkeypatch.setattr(presence, "CHANGED_FOR", 0.05)
    backend.note_access_change_sync(user_id=8)
    await asyncio.sleep(0.1)
    assert await backend.access_changed_lately(room_id=ROOM, user_id=8) == {"room"}


def test_an_access_change_outlives_the_reuse_of_an_admission_check():
    from signaling.consumers import JOIN_CHECK_FRESH_FOR

    # A socket that reuses its check within JOIN_CHECK_FRESH_FOR of the
    # check's start must still find a change made while the check ran.
    assert presence.CHANGED_FOR > 2 * JOIN_CHECK_FRESH_FOR


async def test_refresh_keeps_an_entry_alive(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=4, ttl=0.15)
    for _ in range(4):
        await asyncio.sleep(0.05)
        assert await backend.refresh(ROOM, "a", 0.15) == (True, [])
    assert await backend.count([ROOM]) == {ROOM: 1}


async def test_refresh_many_refreshes_each_seat_in_order_as_refresh_would(backend: Presence):
    other = ROOM + 1
    await backend.join(ROOM, entry("ghost", 1), capacity=4, ttl=0.05)
    await backend.join(ROOM, entry("a", 2), capacity=4, ttl=0.15)
    await backend.join(ROOM, entry("b", 3), capacity=4, ttl=0.15)
    await backend.join(other, entry("c", 4), capacity=4, ttl=0.15)
    await asyncio.sleep(0.1)
    results = await backend.refresh_many(
        [(ROOM, "a", TTL), (ROOM, "b", TTL), (other, "c", TTL), (ROOM, "nobody", TTL)]
    )
    assert [(present, [e.peer for e in reaped]) for present, reaped in results] == [
        (True, ["ghost"]),  # reaped once, by the first refresh in its room
        (True, []),
        (True, []),
        (False, []),
    ]
    await asyncio.sleep(0.1)  # past the seats' first ttl
    assert await backend.count([ROOM, other]) == {ROOM: 2, other: 1}
    assert await backend.refresh_many([]) == []


async def test_refresh_of_a_removed_peer_says_so(backend: Presence):
    assert await backend.refresh(ROOM, "nobody", TTL) == (False, [])
    await backend.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    await backend.leave(ROOM, "a")
    assert await backend.refresh(ROOM, "a", TTL) == (False, [])


async def test_set_state_merges_and_returns_the_whole_state(backend: Presence):
    await backend.join(ROOM, entry("a", 1, state={"muted": False, "camera": True}), 4, TTL)
    assert await backend.set_state(ROOM, "a", {"muted": True}) == {"muted": True, "camera": True}
    result = await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    assert result.peers[0].state == {"muted": True, "camera": True}
    assert await backend.set_state(ROOM, "nobody", {"muted": True}) is None


async def test_rooms_are_independent(backend: Presence):
    await backend.join(1, entry("a", 1), capacity=2, ttl=TTL)
    await backend.join(1, entry("b", 2), capacity=2, ttl=TTL)
    assert (await backend.join(2, entry("c", 3), capacity=2, ttl=TTL)).admitted
    assert (await backend.join(2, entry("d", 1), capacity=2, ttl=TTL)).replaced == []
    assert await backend.count([1, 2]) == {1: 2, 2: 2}
    assert backend.count_sync([1, 2, 3]) == {1: 2, 2: 2}


@pytest.mark.redis
async def test_redis_keys_expire_with_the_room(redis_url: str):
    import redis.asyncio as aioredis

    store = RedisPresence(redis_url, prefix="test:presence")
    await store.join(ROOM, entry("a", 1), capacity=4, ttl=0.2)
    client = aioredis.Redis.from_url(redis_url)
    try:
        ttls = [await client.pttl(key) for key in store.keys(ROOM)]
        assert all(0 < ttl <= 60_000 for ttl in ttls)
        await store.leave(ROOM, "a")
        assert await client.exists(*store.keys(ROOM)) == 0
    finally:
        await client.aclose()
        await store.aclose()


# --- Held seats and resuming -----------------------------------------------------------


async def test_resume_gives_the_seat_to_a_new_channel_with_the_same_peer_id(backend: Presence):
    await backend.join(ROOM, entry("a", 1, name="민지"), capacity=4, ttl=TTL)
    await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    assert await backend.hold(ROOM, "a", "specific.test!a", grace=TTL)
    result, reaped = await backend.resume(
        ROOM, "a", 1, "specific.test!new", {"muted": True, "hand": True}, ttl=TTL
    )
    assert reaped == []
    assert result is not None
    assert (result.entry.peer, result.entry.channel, result.entry.name) == (
        "a",
        "specific.test!new",
        "민지",
    )
    assert result.entry.state == {"muted": True, "hand": True}
    assert result.old_channel == "specific.test!a"
    assert [e.peer for e in result.peers] == ["b"]
    # Still one seat, now on the new channel.
    assert await backend.count([ROOM]) == {ROOM: 2}
    joined = await backend.join(ROOM, entry("c", 3), capacity=4, ttl=TTL)
    assert {e.peer: e.channel for e in joined.peers}["a"] == "specific.test!new"


async def test_only_its_own_user_resumes_a_seat(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    result, _ = await backend.resume(ROOM, "a", 2, "specific.test!thief", {}, ttl=TTL)
    assert result is None
    again = await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    assert [(e.peer, e.channel) for e in again.peers] == [("a", "specific.test!a")]


async def test_a_seat_resumed_elsewhere_is_not_held_by_its_old_socket(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    await backend.resume(ROOM, "a", 1, "specific.test!new", {}, ttl=TTL)
    assert not await backend.hold(ROOM, "a", "specific.test!a", grace=0.05)
    await asyncio.sleep(0.1)
    present, reaped = await backend.refresh(ROOM, "a", ttl=TTL)
    assert present
    assert reaped == []


async def test_a_held_seat_not_resumed_in_time_is_reaped(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=4, ttl=TTL)
    await backend.join(ROOM, entry("b", 2), capacity=4, ttl=TTL)
    assert await backend.hold(ROOM, "a", "specific.test!a", grace=0.05)
    # Held seats still count (and take a seat of the cap) until they expire.
    assert await backend.count([ROOM]) == {ROOM: 2}
    await asyncio.sleep(0.1)
    present, reaped = await backend.refresh(ROOM, "b", ttl=TTL)
    assert present
    assert [e.peer for e in reaped] == ["a"]
    result, _ = await backend.resume(ROOM, "a", 1, "specific.test!late", {}, ttl=TTL)
    assert result is None


async def test_a_held_seat_counts_against_the_cap(backend: Presence):
    await backend.join(ROOM, entry("a", 1), capacity=1, ttl=TTL)
    await backend.hold(ROOM, "a", "specific.test!a", grace=TTL)
    result = await backend.join(ROOM, entry("b", 2), capacity=1, ttl=TTL)
    assert not result.admitted


async def test_join_reports_the_seat_order_and_entries_list_who_is_in(backend: Presence):
    """The join order (``seq``) is what decides the acting host (signaling/hosts.py)."""
    seqs = []
    for index, peer in enumerate(["a", "b", "c"]):
        seqs.append((await backend.join(ROOM, entry(peer, index), capacity=4, ttl=TTL)).seq)
    assert seqs == sorted(set(seqs))
    assert len(seqs) == 3
    await backend.leave(ROOM, "a")
    later = await backend.join(ROOM, entry("d", 9), capacity=4, ttl=TTL)
    assert later.seq > seqs[-1]
    assert [(e.peer, e.seq) for e in await backend.entries(ROOM)] == [
        ("b", seqs[1]),
        ("c", seqs[2]),
        ("d", later.seq),
    ]
    assert [e.peer for e in backend.entries_sync(ROOM)] == ["b", "c", "d"]
    full = await backend.join(ROOM, entry("e", 10), capacity=3, ttl=TTL)
    assert (full.admitted, full.seq) == (False, 0)
    assert await backend.entries(ROOM + 1) == []


async def test_entries_leave_out_expired_seats(backend: Presence):
    await backend.join(ROOM, entry("ghost", 1), capacity=4, ttl=0.05)
    await backend.join(ROOM, entry("alive", 2), capacity=4, ttl=TTL)
    await asyncio.sleep(0.1)
    assert [e.peer for e in await backend.entries(ROOM)] == ["alive"]
