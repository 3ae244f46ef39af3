"""Caps on the sockets one account holds open (signaling/sockets.py, 4002)."""

from __future__ import annotations

import pytest

from rooms import services
from signaling.sockets import SocketCounts, get_counts

from .conftest import Opener, World, in_thread


@pytest.fixture(autouse=True)
def small_caps(settings):
    settings.SIGNALING = {
        **settings.SIGNALING,
        "MAX_SOCKETS_PER_ROOM": 2,
        "MAX_SOCKETS_PER_USER": 3,
    }


def test_counts_refuse_past_either_cap_and_change_nothing_when_they_do():
    counts = SocketCounts()
    assert counts.claim(1, 10, per_room=2, per_user=3)
    assert counts.claim(1, 10, per_room=2, per_user=3)
    assert not counts.claim(1, 10, per_room=2, per_user=3)
    assert counts.claim(1, 11, per_room=2, per_user=3)
    assert not counts.claim(1, 12, per_room=2, per_user=3)
    assert len(counts) == 3
    assert counts.claim(2, 10, per_room=2, per_user=3), "another user has caps of their own"
    counts.release(1, 10)
    assert counts.claim(1, 12, per_room=2, per_user=3)
    for room in (10, 11, 12):
        counts.release(1, room)
    counts.release(2, 10)
    assert len(counts) == 0
    assert not counts.per_room, "no empty entries are kept"
    assert not counts.per_user


async def admitted(open_socket: Opener, person, slug: str):
    """A socket past its admission: the handshake is accepted before the
    checks run, and a ping is answered only after them."""
    socket = await open_socket(person, slug)
    await socket.send({"type": "ping"})
    await socket.expect("pong")
    return socket


async def test_a_socket_past_the_per_room_cap_is_closed_with_4002(
    world: World, open_socket: Opener
):
    first = await admitted(open_socket, world.alex, world.slug)
    second = await admitted(open_socket, world.alex, world.slug)
    third = await open_socket(world.alex, world.slug)
    assert await third.closed() == 4002
    # The two within the cap are untouched: one joins, the other still answers.
    await first.join()
    await second.send({"type": "ping"})
    await second.expect("pong")
    # Someone else in the same room is not affected by Alex's sockets.
    other = await open_socket(world.sam, world.slug)
    await other.join()


async def test_a_closed_socket_gives_its_place_back(world: World, open_socket: Opener):
    first = await admitted(open_socket, world.alex, world.slug)
    await admitted(open_socket, world.alex, world.slug)
    await first.disconnect()
    third = await open_socket(world.alex, world.slug)
    await third.join()
    assert get_counts().per_room[(world.alex.pk, world.room.pk)] == 2


async def test_the_per_user_cap_counts_every_room(world: World, open_socket: Opener):
    rooms = [
        await in_thread(services.room_create, owner=world.alex.user, name=f"room {n}")
        for n in range(2)
    ]
    await admitted(open_socket, world.alex, world.slug)
    await admitted(open_socket, world.alex, world.slug)
    await admitted(open_socket, world.alex, rooms[0].slug)
    refused = await open_socket(world.alex, rooms[1].slug)
    assert await refused.closed() == 4002


async def test_refused_sockets_hold_no_place(world: World, open_socket: Opener):
    outsider = await open_socket(world.eve, world.slug)
    assert await outsider.closed() == 4403
    assert world.eve.pk not in get_counts().per_user
    for _ in range(2):
        await admitted(open_socket, world.alex, world.slug)
    refused = await open_socket(world.alex, world.slug)
    assert await refused.closed() == 4002
    await refused.disconnect()
    assert get_counts().per_room[(world.alex.pk, world.room.pk)] == 2
