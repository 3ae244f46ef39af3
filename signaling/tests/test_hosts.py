"""Hosts in the call: the acting-host rule, who may send host-only frames, and
mute requests (docs/protocol.md, "Hosts in the call")."""

from __future__ import annotations

import pytest

from rooms.models import Room
from signaling.hosts import acting_host
from signaling.live import live_call
from signaling.presence import Entry, get_presence

from .conftest import Opener, Socket, World, in_thread, joined


def seat(peer: str, seq: int, *, host: bool = False) -> Entry:
    return Entry(peer=peer, user=seq, channel=f"c!{peer}", name=peer, host=host, seq=seq)


# --- The rule ----------------------------------------------------------------------------


def test_the_longest_present_participant_acts_when_no_host_is_there():
    seats = [seat("late", 9), seat("first", 2), seat("middle", 5)]
    assert acting_host(seats) == "first"
    assert acting_host(reversed(seats)) == "first"


def test_nobody_acts_while_a_host_is_in_the_call_however_late_they_came():
    assert acting_host([seat("first", 1), seat("host", 7, host=True)]) is None


def test_equal_places_go_to_the_smaller_peer_id_and_an_empty_call_has_nobody():
    assert acting_host([seat("b", 3), seat("a", 3)]) == "a"
    assert acting_host([]) is None


# --- Who is acting host, as the server tells it -------------------------------------------


async def everyone_joined(open_socket: Opener, world: World, *people) -> list[Socket]:
    """Join ``people`` in this order; each socket has read every peer-joined
    (and acting-host) frame the later ones caused."""
    sockets: list[Socket] = []
    for person in people:
        sockets.append(await joined(open_socket, person, world.slug))
    for index, socket in enumerate(sockets):
        for _ in sockets[index + 1 :]:
            await socket.expect("peer-joined")
    return sockets


async def test_the_first_member_in_is_acting_host_until_a_host_comes(
    world: World, open_socket: Opener
):
    alex = await joined(open_socket, world.alex, world.slug)
    assert alex.welcome["acting"] == alex.peer
    sam = await joined(open_socket, world.sam, world.slug)
    assert sam.welcome["acting"] == alex.peer
    await alex.expect("peer-joined")
    assert await alex.nothing()  # nothing changed for Alex
    host = await joined(open_socket, world.host, world.slug)
    assert host.welcome["acting"] is None
    for member in (alex, sam):
        joined_frame = await member.expect("peer-joined")
        assert joined_frame["peer"]["peer"] == host.peer
        assert await member.recv() == {"type": "acting-host", "peer": None}


async def test_when_the_host_leaves_the_longest_present_member_becomes_acting_host(
    world: World, open_socket: Opener
):
    host, alex, sam, jo = await everyone_joined(
        open_socket, world, world.host, world.alex, world.sam, world.jo
    )
    assert [s.welcome["acting"] for s in (host, alex, sam, jo)] == [None] * 4
    await host.send({"type": "leave"})
    for member in (alex, sam, jo):
        await member.expect("peer-left", peer=host.peer, reason="left")
        await member.expect("acting-host", peer=alex.peer)
    # The acting host leaves: the next longest-present member takes over.
    await alex.disconnect()
    for member in (sam, jo):
        await member.expect("peer-left", peer=alex.peer)
        await member.expect("acting-host", peer=sam.peer)
    # Someone who left is not the longest present when they come back.
    again = await joined(open_socket, world.alex, world.slug)
    assert again.welcome["acting"] == sam.peer
    for member in (sam, jo):
        await member.expect("peer-joined")
        assert await member.nothing()
    # A host coming back ends it for everyone.
    back = await joined(open_socket, world.host, world.slug)
    assert back.welcome["acting"] is None
    for member in (sam, jo, again):
        await member.expect("peer-joined")
        await member.expect("acting-host", peer=None)


async def test_the_room_page_names_the_acting_host(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug, name="Alex K.")
    await joined(open_socket, world.sam, world.slug)
    await alex.expect("peer-joined")
    seen = await in_thread(live_call, world.room.pk)
    assert (seen.acting, seen.hosts) == ("Alex K.", [])
    host = await joined(open_socket, world.host, world.slug)
    assert host.welcome["acting"] is None
    seen = await in_thread(live_call, world.room.pk)
    assert (seen.acting, seen.hosts) == (None, ["민지"])


# --- What an acting host may do, and what nobody else may --------------------------------------


async def acting_call(world: World, open_socket: Opener) -> tuple[Socket, Socket, Socket]:
    """The host left a call of Alex, Sam and Jo: Alex is acting host."""
    host, alex, sam, jo = await everyone_joined(
        open_socket, world, world.host, world.alex, world.sam, world.jo
    )
    await host.send({"type": "leave"})
    for member in (alex, sam, jo):
        await member.expect("peer-left", peer=host.peer)
        await member.expect("acting-host", peer=alex.peer)
    return alex, sam, jo


async def test_the_acting_host_asks_one_person_or_everyone_to_mute(
    world: World, open_socket: Opener
):
    alex, sam, jo = await acting_call(world, open_socket)
    await alex.send({"type": "mute", "peer": sam.peer})
    assert await sam.recv() == {"type": "mute-request", "from": alex.peer}
    assert await jo.nothing()
    await alex.send({"type": "mute", "all": True})
    for member in (sam, jo):
        assert await member.recv() == {"type": "mute-request", "from": alex.peer}
    assert await alex.nothing()
    # Asking is all the server does: the state changes only when the person's
    # own browser says so.
    states = {e.peer: e.state["muted"] for e in await get_presence().entries(world.room.pk)}
    assert states == {alex.peer: False, sam.peer: False, jo.peer: False}
    await sam.send({"type": "state", "state": {"muted": True}})
    for other in (alex, jo):
        changed = await other.expect("peer-state", peer=sam.peer)
        assert changed["state"]["muted"] is True


async def test_the_acting_host_kicks(world: World, open_socket: Opener):
    alex, sam, jo = await acting_call(world, open_socket)
    await alex.send({"type": "kick", "peer": jo.peer})
    assert await jo.closes() == 4000
    for other in (alex, sam):
        await other.expect("peer-left", peer=jo.peer, reason="kicked")


async def test_members_who_are_not_acting_host_are_refused_and_nothing_happens(
    world: World, open_socket: Opener
):
    alex, sam, jo = await acting_call(world, open_socket)
    for frame in (
        {"type": "mute", "peer": jo.peer},
        {"type": "mute", "all": True},
        {"type": "kick", "peer": jo.peer},
        {"type": "end"},
    ):
        await sam.send({**frame, "ref": "r"})
        error = await sam.expect("error", code="forbidden", ref="r")
        assert "Only hosts" in error["message"]
    assert await jo.nothing()
    assert await alex.nothing()
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 3}


async def test_a_member_cannot_mute_anyone_while_a_host_is_there(world: World, open_socket: Opener):
    host, alex = await everyone_joined(open_socket, world, world.host, world.alex)
    await alex.send({"type": "mute", "peer": host.peer, "ref": "m"})
    await alex.expect("error", code="forbidden", ref="m")
    assert await host.nothing()


async def test_an_acting_host_cannot_end_the_meeting(world: World, open_socket: Opener):
    alex, sam, _jo = await acting_call(world, open_socket)
    await alex.send({"type": "end", "ref": "e"})
    error = await alex.expect("error", code="forbidden", ref="e")
    assert "acting host cannot" in error["message"]
    room = await in_thread(Room.objects.get, pk=world.room.pk)
    assert room.ended_at is None
    assert await sam.nothing()


async def test_the_acting_host_is_confirmed_against_presence(world: World, open_socket: Opener):
    """A host whose arrival this connection has not heard of yet (its event is
    still on its way from another process) already ends the acting host's
    rights: presence decides, not the connection's copy of the room."""
    alex, sam, _jo = await acting_call(world, open_socket)
    unannounced = Entry(
        peer="HostElsewhere", user=world.host.pk, channel="other!x", name="민지", host=True
    )
    result = await get_presence().join(world.room.pk, unannounced, 4, 30.0)
    assert result.admitted
    await alex.send({"type": "mute", "peer": sam.peer, "ref": "m"})
    await alex.expect("error", code="forbidden", ref="m")
    assert await sam.nothing()


# --- Mute requests ------------------------------------------------------------------------------


async def test_a_host_mutes_one_person_or_everyone_else(world: World, open_socket: Opener):
    host, alex, sam = await everyone_joined(open_socket, world, world.host, world.alex, world.sam)
    await host.send({"type": "mute", "peer": alex.peer, "from": sam.peer})
    # ``from`` is stamped by the server, whatever the frame said.
    assert await alex.recv() == {"type": "mute-request", "from": host.peer}
    assert await sam.nothing()
    await host.send({"type": "mute", "all": True})
    for member in (alex, sam):
        assert await member.recv() == {"type": "mute-request", "from": host.peer}
    assert await host.nothing()


async def test_a_mute_request_for_someone_not_in_the_call_is_an_error(
    world: World, open_socket: Opener
):
    host, alex = await everyone_joined(open_socket, world, world.host, world.alex)
    for target in ("Vx3k9QmT2pLa", host.peer):
        await host.send({"type": "mute", "peer": target, "ref": "u"})
        await host.expect("error", code="unknown-peer", ref="u")
    assert await alex.nothing()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "unmute", "peer": "PEER"},
        {"type": "unmute", "all": True},
        {"type": "mute", "peer": "PEER", "muted": False},
    ],
)
async def test_nobody_is_ever_unmuted_remotely(world: World, open_socket: Opener, frame: dict):
    host, alex = await everyone_joined(open_socket, world, world.host, world.alex)
    await alex.send({"type": "state", "state": {"muted": True}})
    await host.expect("peer-state", peer=alex.peer)
    if frame.get("peer") == "PEER":
        frame = {**frame, "peer": alex.peer}
    await host.send({**frame, "ref": "u"})
    error = await host.expect("error", code="forbidden", ref="u")
    assert "unmuted remotely" in error["message"]
    assert await alex.nothing()
    (seen,) = [e for e in await get_presence().entries(world.room.pk) if e.peer == alex.peer]
    assert seen.state["muted"] is True


async def test_mute_before_joining_is_refused(world: World, open_socket: Opener):
    socket = await open_socket(world.host, world.slug)
    await socket.send({"type": "mute", "all": True, "ref": "m"})
    await socket.expect("error", code="not-joined", ref="m")
