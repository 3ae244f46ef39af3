"""The call consumer against docs/protocol.md, through the real ASGI stack."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse

from accounts.models import User
from rooms import services
from rooms.models import Membership, Room
from signaling import access, consumers, events, presence, protocol
from signaling.groups import room_group, user_group
from signaling.presence import Entry, get_presence
from tests.sessions import session_for

from .conftest import WAIT, Closed, Opener, Socket, World, fast_timers, in_thread, joined

OFFER_SDP = "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50101 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "aB3d",
}


# --- Connecting and refusals ------------------------------------------------------------


async def test_anonymous_socket_is_closed_with_4401(world: World, open_socket: Opener):
    socket = await open_socket(None, world.slug)
    assert await socket.closed() == 4401


async def test_bogus_session_cookie_is_anonymous(world: World, open_socket: Opener):
    socket = await open_socket(None, world.slug, session="not-a-session")
    assert await socket.closed() == 4401


async def test_unknown_room_is_closed_with_4404(world: World, open_socket: Opener):
    socket = await open_socket(world.alex, "zzz-zzzz-zzz")
    assert await socket.closed() == 4404


async def test_overlong_room_code_is_4404_without_a_query(world: World, open_socket: Opener):
    socket = await open_socket(world.alex, "x" * 500)
    assert await socket.closed() == 4404


async def test_non_member_is_closed_with_4403(world: World, open_socket: Opener):
    socket = await open_socket(world.eve, world.slug)
    assert await socket.closed() == 4403


async def test_ended_room_is_closed_with_4410(world: World, open_socket: Opener):
    await in_thread(services.room_end, room=world.room, by=None)
    socket = await open_socket(world.alex, world.slug)
    assert await socket.closed() == 4410


async def test_locked_room_refuses_members_with_4423_but_admits_hosts(
    world: World, open_socket: Opener
):
    await in_thread(services.room_set_locked, room=world.room, by=None, locked=True)
    member = await open_socket(world.alex, world.slug)
    assert await member.closed() == 4423
    host = await open_socket(world.host, world.slug)
    welcome = await host.join()
    assert welcome["room"]["locked"] is True


async def test_lock_while_on_the_pre_join_screen_refuses_the_join(
    world: World, open_socket: Opener, monkeypatch
):
    # The socket opened "long" ago (more than the 2 s its first check holds).
    monkeypatch.setattr(consumers, "JOIN_CHECK_FRESH_FOR", 0.0)
    socket = await open_socket(world.alex, world.slug)
    await in_thread(services.room_set_locked, room=world.room, by=None, locked=True)
    await socket.send({"type": "join"})
    assert await socket.closed() == 4423


async def test_foreign_origin_is_closed_with_4003_even_for_a_member(
    world: World, open_socket: Opener
):
    """More origins in test_origin.py."""
    socket = await open_socket(world.alex, world.slug, origin=b"http://testserver:8080")
    assert await socket.closed() == 4003


# --- join and welcome -------------------------------------------------------------------


async def test_welcome_describes_me_the_room_and_the_others(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug, state={"muted": True, "camera": False})
    assert host.welcome == {
        "type": "welcome",
        "peer": host.peer,
        "name": "민지",
        "host": True,
        "guest": False,
        "acting": None,
        "room": {
            "code": world.slug,
            "name": "주간 회의",
            "max": 4,
            "locked": False,
            "lobby": False,
        },
        "peers": [],
        "ice": host.welcome["ice"],
        "heartbeat": 10,
        "report": 10,
        "resume": host.welcome["resume"],
        "resumed": False,
    }
    assert host.welcome["resume"].startswith(f"{host.peer}.")
    assert len(host.peer) == 12
    alex = await joined(open_socket, world.alex, world.slug, name="  Alex K.  ")
    assert alex.welcome["name"] == "Alex K."
    assert alex.welcome["host"] is False
    assert alex.welcome["peers"] == [
        {
            "peer": host.peer,
            "name": "민지",
            "host": True,
            "guest": False,
            "state": {"muted": True, "camera": False, "screen": False, "hand": False},
            "offer": True,
            "polite": alex.peer < host.peer,
        }
    ]
    joined_frame = await host.expect("peer-joined")
    assert joined_frame["peer"] == {
        "peer": alex.peer,
        "name": "Alex K.",
        "host": False,
        "guest": False,
        "state": {"muted": False, "camera": True, "screen": False, "hand": False},
        "offer": False,
        "polite": host.peer < alex.peer,
    }


async def test_roles_are_complementary_for_every_pair(world: World, open_socket: Opener):
    """For each pair exactly one side offers and exactly one side is polite."""
    sockets = [
        await joined(open_socket, person, world.slug)
        for person in (world.host, world.alex, world.sam, world.jo)
    ]
    views: dict[tuple[str, str], dict] = {}
    for index, socket in enumerate(sockets):
        for earlier in socket.welcome["peers"]:
            views[(socket.peer, earlier["peer"])] = earlier
        for _ in range(len(sockets) - index - 1):
            frame = await socket.expect("peer-joined")
            views[(socket.peer, frame["peer"]["peer"])] = frame["peer"]
    assert len(views) == 12
    for (me, other), view in views.items():
        mirror = views[(other, me)]
        assert view["offer"] != mirror["offer"]
        assert view["polite"] != mirror["polite"]
        assert view["polite"] == (me < other)


async def test_peer_ids_are_new_on_every_connection(world: World, open_socket: Opener):
    first = await joined(open_socket, world.alex, world.slug)
    await first.send({"type": "leave"})
    assert await first.closed() == 1000
    second = await joined(open_socket, world.alex, world.slug)
    assert second.peer != first.peer
    assert str(world.alex.pk) not in second.peer


async def test_second_join_is_an_error(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.send({"type": "join", "ref": "2"})
    await alex.expect("error", code="already-joined", ref="2")


async def test_only_join_and_ping_before_join(world: World, open_socket: Opener):
    socket = await open_socket(world.alex, world.slug)
    await socket.send({"type": "ping"})
    await socket.expect("pong")
    for kind in ("offer", "state", "ice-servers", "kick", "end", "leave"):
        frame: dict[str, object] = {
            "type": kind,
            "ref": kind,
            "to": "x",
            "sdp": "v=0",
            "peer": "x",
            "state": {},
        }
        await socket.send(frame)
        await socket.expect("error", code="not-joined", ref=kind)


# --- Relay ------------------------------------------------------------------------------


async def test_offer_answer_and_candidates_reach_only_their_addressee(
    world: World, open_socket: Opener
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    sam = await joined(open_socket, world.sam, world.slug)
    await host.expect("peer-joined")
    await host.expect("peer-joined")
    await alex.expect("peer-joined")

    # A forged "from" is ignored; unknown fields do not travel.
    await sam.send({"type": "offer", "to": host.peer, "from": alex.peer, "sdp": OFFER_SDP, "x": 1})
    assert await host.recv() == {"type": "offer", "from": sam.peer, "sdp": OFFER_SDP}
    await host.send({"type": "answer", "to": sam.peer, "sdp": "v=0\r\nanswer"})
    assert await sam.recv() == {"type": "answer", "from": host.peer, "sdp": "v=0\r\nanswer"}
    await sam.send({"type": "candidate", "to": host.peer, "candidate": CANDIDATE})
    assert await host.recv() == {"type": "candidate", "from": sam.peer, "candidate": CANDIDATE}
    await host.send({"type": "candidate", "to": sam.peer, "candidate": None})
    assert await sam.recv() == {"type": "candidate", "from": host.peer, "candidate": None}

    # Alex saw none of it: the first thing Alex gets is what is addressed to Alex.
    await sam.send({"type": "candidate", "to": alex.peer, "candidate": {"candidate": ""}})
    assert await alex.recv() == {
        "type": "candidate",
        "from": sam.peer,
        "candidate": {"candidate": "", "sdpMid": None, "sdpMLineIndex": None,
                      "usernameFragment": None},
    }  # fmt: skip
    assert await alex.nothing()


async def test_relaying_never_queries_the_database(world: World, open_socket: Opener, monkeypatch):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")

    # Every statement from any thread (the consumer's database work runs in
    # asgiref's thread, where a per-connection wrapper would not see it).
    statements: list[str] = []
    for name in ("execute", "executemany"):
        method = getattr(CursorWrapper, name)

        def counted(self, sql, *args, _method=method, **kwargs):
            statements.append(sql)
            return _method(self, sql, *args, **kwargs)

        monkeypatch.setattr(CursorWrapper, name, counted)
    for _ in range(10):
        await alex.send({"type": "offer", "to": host.peer, "sdp": OFFER_SDP})
        assert (await host.expect("offer"))["from"] == alex.peer
        await host.send({"type": "answer", "to": alex.peer, "sdp": "v=0\r\nanswer"})
        assert (await alex.expect("answer"))["from"] == host.peer
        await alex.send({"type": "candidate", "to": host.peer, "candidate": CANDIDATE})
        assert (await host.expect("candidate"))["from"] == alex.peer
        await host.send({"type": "ping"})
        await host.expect("pong")
    assert statements == []

    # The counter does see the consumer's thread.
    await in_thread(User.objects.count)
    assert len(statements) == 1


def consumer_of(socket: Socket, room_id: int):
    """The consumer behind a joined socket (through the layer's local receivers)."""
    entry = presence._memory._rooms[room_id][socket.peer][0]
    return get_channel_layer().receivers[entry.channel].__self__


async def test_relaying_to_a_peer_in_this_process_takes_no_channel_layer_hop(
    world: World, open_socket: Opener, monkeypatch
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    layer = get_channel_layer()

    async def no_hop(*args):
        raise AssertionError("a relay between two local peers went through the channel layer")

    monkeypatch.setattr(layer, "send", no_hop)
    monkeypatch.setattr(layer, "group_send", no_hop)
    encoded: list[str] = []
    relay_frame = protocol.relay_frame

    def counted(*args):
        encoded.append(relay_frame(*args))
        return encoded[-1]

    monkeypatch.setattr(consumers, "relay_frame", counted)
    await alex.send({"type": "offer", "to": host.peer, "sdp": OFFER_SDP})
    assert (await host.expect("offer"))["from"] == alex.peer
    await host.send({"type": "candidate", "to": alex.peer, "candidate": CANDIDATE})
    assert (await alex.expect("candidate"))["from"] == host.peer
    # Serialized once, by the sender; the addressee writes that very frame.
    assert len(encoded) == 2


async def test_relaying_to_a_peer_in_another_process_goes_through_the_channel_layer(
    world: World, open_socket: Opener
):
    """A seat whose channel has no receiver in this process (its socket is
    on another server process) gets its signals from the channel layer."""
    layer = get_channel_layer()
    elsewhere = await layer.new_channel()
    assert elsewhere not in layer.receivers
    remote = Entry(
        peer="RemotePeer12", user=world.sam.pk, channel=elsewhere, name="sam", host=False
    )
    result = await get_presence().join(world.room.pk, remote, 4, 30.0)
    assert result.admitted
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.send({"type": "offer", "to": remote.peer, "sdp": OFFER_SDP})
    await alex.send({"type": "candidate", "to": remote.peer, "candidate": CANDIDATE})
    got = [await asyncio.wait_for(layer.receive(elsewhere), WAIT) for _ in range(2)]
    assert [event["type"] for event in got] == ["peer.signal", "peer.signal"]
    assert {event["from"] for event in got} == {alex.peer}
    assert [json.loads(event["text"])["type"] for event in got] == ["offer", "candidate"]


async def test_a_newcomers_offer_never_overtakes_its_announcement_at_a_busy_peer(
    world: World, open_socket: Opener
):
    """The announcement is a group message and the offer a direct one; a peer
    busy with something else (its lock held) gets both afterwards, in order."""
    host = await joined(open_socket, world.host, world.slug)
    busy = consumer_of(host, world.room.pk)
    async with busy.lock:
        alex = await joined(open_socket, world.alex, world.slug)
        await alex.send({"type": "offer", "to": host.peer, "sdp": OFFER_SDP})
        await alex.send({"type": "ping"})
        await alex.expect("pong")  # the offer was relayed (into the busy peer's inbox)
        assert await host.nothing()
    assert (await host.expect("peer-joined"))["peer"]["peer"] == alex.peer
    assert (await host.expect("offer"))["from"] == alex.peer


@pytest.mark.parametrize("target", ["nobody", "self", "departed"])
async def test_relay_to_unknown_self_or_departed_peer_is_an_error(
    world: World, open_socket: Opener, target: str
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    to = {"nobody": "Vx3k9QmT2pLa", "self": host.peer, "departed": alex.peer}[target]
    if target == "departed":
        await alex.send({"type": "leave"})
        assert await alex.closed() == 1000
        await host.expect("peer-left", peer=alex.peer, reason="left")
    await host.send({"type": "offer", "to": to, "sdp": OFFER_SDP, "ref": "17"})
    error = await host.expect("error", code="unknown-peer", ref="17")
    assert to in error["message"]


# --- State, ping, ICE -------------------------------------------------------------------


async def test_state_change_reaches_the_others_not_the_sender(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.send({"type": "state", "state": {"muted": True, "hand": True, "bogus": 1}})
    await host.expect(
        "peer-state",
        peer=alex.peer,
        state={"muted": True, "camera": True, "screen": False, "hand": True},
    )
    await alex.send({"type": "state", "state": {"hand": False}})
    frame = await host.expect("peer-state")
    assert frame["state"] == {"muted": True, "camera": True, "screen": False, "hand": False}
    assert await alex.nothing()
    # A later joiner sees the current state in its welcome.
    sam = await joined(open_socket, world.sam, world.slug)
    by_peer = {peer["peer"]: peer for peer in sam.welcome["peers"]}
    assert by_peer[alex.peer]["state"]["muted"] is True


async def test_ping_is_answered_with_pong(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.send({"type": "ping"})
    assert await alex.recv() == {"type": "pong"}


async def test_ice_servers_from_settings_in_welcome_and_on_request(
    world: World, open_socket: Opener, settings
):
    settings.STUN_URLS = ["stun:stun.example.com:3478"]
    settings.TURN_URLS = ["turn:turn.example.com:3478?transport=udp"]
    settings.TURN_SECRET = "s3cret"
    settings.TURN_CREDENTIAL_TTL = 600
    alex = await joined(open_socket, world.alex, world.slug)
    ice = alex.welcome["ice"]
    assert ice["policy"] == "all"
    assert ice["servers"][0] == {"urls": ["stun:stun.example.com:3478"]}
    turn = ice["servers"][1]
    assert turn["username"] == f"{ice['expires']}:{world.alex.pk}"
    assert "s3cret" not in json.dumps(alex.welcome)
    await alex.send({"type": "ice-servers"})
    fresh = await alex.expect("ice-servers")
    assert fresh["ice"]["expires"] >= ice["expires"]
    assert fresh["ice"]["servers"][1]["username"].endswith(f":{world.alex.pk}")


async def test_no_ice_settings_means_no_servers(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    assert alex.welcome["ice"]["servers"] == []


# --- Leaving: exactly one peer-left -----------------------------------------------------


async def test_leave_closes_1000_and_is_announced_once(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.send({"type": "leave"})
    assert await alex.closed() == 1000
    await alex.disconnect()
    await host.expect("peer-left", peer=alex.peer, reason="left")
    assert await host.nothing()
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 1}


async def test_closing_the_socket_is_announced_as_left(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.disconnect(code=1000)
    await host.expect("peer-left", peer=alex.peer, reason="left")
    assert await host.nothing()


async def test_a_lost_socket_is_announced_as_timeout_after_the_grace_period(
    world: World, open_socket: Opener, settings
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=5)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.disconnect(code=1006)
    await host.expect("peer-left", peer=alex.peer, reason="timeout")
    assert await host.nothing()


# --- Capacity and the same account twice ------------------------------------------------


async def test_full_room_closes_the_newcomer_with_4409(world: World, open_socket: Opener):
    await in_thread(Room.objects.filter(pk=world.room.pk).update, max_participants=2)
    await joined(open_socket, world.host, world.slug)
    await joined(open_socket, world.alex, world.slug)
    sam = await open_socket(world.sam, world.slug)
    await sam.send({"type": "join"})
    assert await sam.closed() == 4409


async def test_concurrent_joins_fill_exactly_the_free_seats(world: World, open_socket: Opener):
    await in_thread(Room.objects.filter(pk=world.room.pk).update, max_participants=2)
    await joined(open_socket, world.host, world.slug)
    racers = [await open_socket(person, world.slug) for person in (world.alex, world.sam, world.jo)]
    await asyncio.gather(*(socket.send({"type": "join"}) for socket in racers))

    async def outcome(socket: Socket) -> str | int:
        try:
            return (await socket.recv())["type"]
        except Closed as closed:
            return closed.code

    outcomes = await asyncio.gather(*(outcome(socket) for socket in racers))
    assert sorted(outcomes, key=str) == [4409, 4409, "welcome"]


async def test_same_account_twice_newest_wins(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    old = await joined(open_socket, world.alex, world.slug)
    assert (await host.expect("peer-joined"))["peer"]["peer"] == old.peer
    new = await joined(open_socket, world.alex, world.slug)
    assert await old.closed() == 4001
    await host.expect("peer-left", peer=old.peer, reason="replaced")
    frame = await host.expect("peer-joined")
    assert frame["peer"]["peer"] == new.peer
    assert [peer["peer"] for peer in new.welcome["peers"]] == [host.peer]
    await old.disconnect()
    assert await host.nothing()


async def test_same_account_does_not_take_a_second_seat(world: World, open_socket: Opener):
    await in_thread(Room.objects.filter(pk=world.room.pk).update, max_participants=2)
    await joined(open_socket, world.host, world.slug)
    old = await joined(open_socket, world.alex, world.slug)
    await joined(open_socket, world.alex, world.slug)
    assert await old.closed() == 4001


# --- Hosts: kick and end ----------------------------------------------------------------


async def test_host_kicks_a_peer(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    sam = await joined(open_socket, world.sam, world.slug)
    await host.expect("peer-joined")
    await host.expect("peer-joined")
    await alex.expect("peer-joined")
    await host.send({"type": "kick", "peer": alex.peer})
    assert await alex.closed() == 4000
    await host.expect("peer-left", peer=alex.peer, reason="kicked")
    await sam.expect("peer-left", peer=alex.peer, reason="kicked")
    await alex.disconnect()
    assert await sam.nothing()
    # Kicked people stay members and may come back.
    again = await joined(open_socket, world.alex, world.slug)
    assert again.peer != alex.peer


async def test_kick_by_a_non_host_or_of_an_unknown_peer_is_an_error(
    world: World, open_socket: Opener
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.send({"type": "kick", "peer": host.peer, "ref": "k"})
    await alex.expect("error", code="forbidden", ref="k")
    await host.expect("peer-joined")
    await host.send({"type": "kick", "peer": "Vx3k9QmT2pLa", "ref": "u"})
    await host.expect("error", code="unknown-peer", ref="u")
    await host.send({"type": "kick", "peer": host.peer, "ref": "s"})
    await host.expect("error", code="unknown-peer", ref="s")


async def test_host_ends_the_meeting_for_everyone(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    waiting = await open_socket(world.sam, world.slug)
    # Connected, not joined: its pong says the server admitted it (and put it
    # in the room's group) before the meeting ends.
    await waiting.send({"type": "ping"})
    await waiting.expect("pong")
    await host.expect("peer-joined")
    await host.send({"type": "end"})
    assert await host.closed() == 4410
    assert await alex.closed() == 4410
    assert await waiting.closed() == 4410
    room = await in_thread(Room.objects.get, pk=world.room.pk)
    assert room.ended_at is not None
    assert await get_presence().count([world.room.pk]) == {}


async def test_end_by_a_non_host_is_forbidden(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.send({"type": "end", "ref": "e"})
    await alex.expect("error", code="forbidden", ref="e")


async def test_admin_ending_the_room_closes_sockets_with_4410(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await in_thread(services.room_end, room=world.room, by=None)
    assert await host.closed() == 4410
    assert await alex.closed() == 4410


async def test_deleting_the_room_closes_sockets_with_4410(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    await in_thread(services.room_delete, room=world.room, by=None)
    assert await alex.closed() == 4410


def admission_held_open(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, threading.Event]:
    """Hold every socket's admission just after its check read the room, and
    before it joins the room's groups: (the check has read, let it go on)."""
    loop = asyncio.get_running_loop()
    read, go_on = asyncio.Event(), threading.Event()
    admit = access.admit

    def admit_then_wait(**kwargs):
        admission = admit(**kwargs)
        loop.call_soon_threadsafe(read.set)
        go_on.wait(WAIT)
        return admission

    monkeypatch.setattr(access, "admit", admit_then_wait)
    return read, go_on


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda world: services.room_end(room=world.room, by=None), 4410),
        # For a newcomer a deleted room is not found, as when connecting later.
        (lambda world: services.room_delete(room=world.room, by=None), 4404),
        (
            lambda world: services.membership_remove(
                membership=Membership.objects.get(room=world.room, user=world.alex.user),
                by=world.host.user,
            ),
            4403,
        ),
    ],
    ids=["ended", "deleted", "member-removed"],
)
async def test_a_socket_admitted_while_its_access_changes_cannot_take_a_seat(
    world: World, open_socket: Opener, monkeypatch: pytest.MonkeyPatch, change, code: int
):
    host = await joined(open_socket, world.host, world.slug)
    read, go_on = admission_held_open(monkeypatch)
    alex = await open_socket(world.alex, world.slug)
    await read.wait()
    # The change and its broadcast happen while alex's check is done but
    # alex is not yet in the room's group: alex never hears it.
    await in_thread(change, world)
    meeting_over = code != 4403
    if meeting_over:
        assert await host.closed() == 4410
    go_on.set()
    await alex.send({"type": "join", "name": "", "state": {}})
    assert await alex.closed() == code
    expected = {} if meeting_over else {world.room.pk: 1}
    assert await get_presence().count([world.room.pk]) == expected


def counted_checks(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """The rooms ``access.<name>`` checks from now on (it still checks)."""
    checks: list[str] = []
    check = getattr(access, name)

    def counted(**kwargs):
        checks.append(kwargs["slug"])
        return check(**kwargs)

    monkeypatch.setattr(access, name, counted)
    return checks


async def test_a_join_reuses_the_admission_check_unless_the_access_changed_lately(
    world: World, open_socket: Opener, monkeypatch: pytest.MonkeyPatch
):
    checks = counted_checks(monkeypatch, "join_check")
    await joined(open_socket, world.alex, world.slug)
    assert checks == []  # a join storm pays one check per socket, not two
    await in_thread(events.note_access_change, room_id=world.room.pk)
    await joined(open_socket, world.sam, world.slug)
    assert checks == [world.slug]


# --- Revocation -------------------------------------------------------------------------


async def test_removed_member_is_closed_with_4403_and_announced(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    membership = await in_thread(Membership.objects.get, room=world.room, user=world.alex.user)
    await in_thread(services.membership_remove, membership=membership, by=world.host.user)
    assert await alex.closed() == 4403
    await host.expect("peer-left", peer=alex.peer, reason="removed")


async def test_logout_closes_that_sessions_sockets_with_4401(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    # Another socket of the same user, on another session, stays.
    other_session = await in_thread(session_for, world.alex.user)
    other = await open_socket(None, world.slug, session=other_session)
    await in_thread(log_out, world.alex.session)
    assert await alex.closed() == 4401
    await host.expect("peer-left", peer=alex.peer, reason="removed")
    await other.send({"type": "ping"})
    await other.expect("pong")


def log_out(session_key: str) -> None:
    """Log out through the site, as the browser would."""
    client = Client()
    client.cookies["sessionid"] = session_key
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302


async def test_a_socket_admitted_while_its_session_logs_out_cannot_take_a_seat(
    world: World, open_socket: Opener, monkeypatch: pytest.MonkeyPatch
):
    host = await joined(open_socket, world.host, world.slug)
    read, go_on = admission_held_open(monkeypatch)
    alex = await open_socket(world.alex, world.slug)
    await read.wait()
    # The logout's broadcast reaches alex's user group before alex is in it.
    await in_thread(log_out, world.alex.session)
    go_on.set()
    await alex.send({"type": "join", "name": "", "state": {}})
    assert await alex.closed() == 4401
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 1}
    await host.send({"type": "ping"})
    await host.expect("pong")


async def test_a_logout_makes_only_that_users_joins_check_again(
    world: World, open_socket: Opener, monkeypatch: pytest.MonkeyPatch
):
    checks = counted_checks(monkeypatch, "session_join_check")
    await in_thread(events.note_access_change, user_id=world.alex.pk)
    await joined(open_socket, world.sam, world.slug)
    assert checks == []
    # Another session of alex's logged out: this one is still signed in.
    await joined(open_socket, world.alex, world.slug)
    assert checks == [world.slug]


async def test_a_logout_event_for_another_session_is_ignored(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    await get_channel_layer().group_send(
        user_group(world.alex.pk),
        {"type": "session.ended", "session": events.session_fingerprint("another")},
    )
    await alex.send({"type": "ping"})
    await alex.expect("pong")


# --- Hostile input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad-json"),
        ("[1, 2]", "bad-json"),
        ('"join"', "bad-json"),
        ("", "bad-json"),
        ("[" * 100_00 + "]" * 100_00, "bad-json"),
        ('{"type": "teleport"}', "unknown-type"),
        ('{"kind": "join"}', "unknown-type"),
        ('{"type": 7}', "unknown-type"),
        ('{"type": "offer", "to": 5, "sdp": "v=0"}', "invalid"),
        ('{"type": "offer", "to": "x"}', "invalid"),
        ('{"type": "state", "state": {"muted": "yes"}}', "invalid"),
        ('{"type": "state", "state": {"muted": 1}}', "invalid"),
        ('{"type": "candidate", "to": "x", "candidate": {"candidate": 1}}', "invalid"),
        ('{"type": "ping", "ref": 5}', "invalid"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_lives(
    world: World, open_socket: Opener, frame: str, code: str
):
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.communicator.send_input({"type": "websocket.receive", "text": frame})
    await alex.expect("error", code=code)
    await alex.send({"type": "ping"})
    await alex.expect("pong")


async def test_oversize_sdp_is_invalid_oversize_frame_closes_4413(
    world: World, open_socket: Opener
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.send({"type": "offer", "to": host.peer, "sdp": "a" * (32 * 1024 + 1), "ref": "big"})
    error = await alex.expect("error", code="invalid", ref="big")
    assert "sdp" in error["message"]
    await alex.send({"type": "offer", "to": host.peer, "sdp": "a" * (70 * 1024)})
    assert await alex.closed() == 4413
    await host.expect("peer-left", peer=alex.peer, reason="left")


async def test_binary_frame_closes_4400(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    await alex.send_bytes(b"\x00\x01")
    assert await alex.closed() == 4400


async def test_too_many_invalid_frames_close_4400(world: World, open_socket: Opener, settings):
    settings.SIGNALING = {**settings.SIGNALING, "INVALID_STRIKES": 3}
    alex = await joined(open_socket, world.alex, world.slug)
    for _ in range(3):
        await alex.send("nope")
        await alex.expect("error", code="bad-json")
    assert await alex.closed() == 4400


async def test_flood_is_rate_limited_then_closed_4429(world: World, open_socket: Opener, settings):
    settings.SIGNALING = {**settings.SIGNALING, "RATE": 1, "BURST": 5, "RATE_STRIKES": 10}
    alex = await joined(open_socket, world.alex, world.slug)  # the join took a token
    for index in range(4):
        await alex.send({"type": "ping", "ref": str(index)})
    for _ in range(4):
        await alex.expect("pong")
    for index in range(9):
        await alex.send({"type": "ping", "ref": f"x{index}"})
        await alex.expect("error", code="rate-limited", ref=f"x{index}")
    await alex.send({"type": "ping"})
    await alex.expect("error", code="rate-limited")
    assert await alex.closed() == 4429


async def test_a_flood_in_one_room_does_not_slow_another(
    world: World, open_socket: Opener, settings
):
    settings.SIGNALING = {**settings.SIGNALING, "RATE": 1, "BURST": 2}
    other = await in_thread(services.room_create, owner=world.jo.user, name="Other")
    flooder = await joined(open_socket, world.alex, world.slug)
    calm = await joined(open_socket, world.jo, other.slug)
    for _ in range(10):
        await flooder.send({"type": "ping"})
    await calm.send({"type": "ping"})
    await calm.expect("pong")


# --- Time: heartbeat, join timeout, presence expiry -------------------------------------


async def test_silent_client_is_closed_4408_and_announced_timeout(
    world: World, open_socket: Opener, settings
):
    fast_timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")

    async def keep_pinging() -> None:
        while True:
            await host.send({"type": "ping"})
            await asyncio.sleep(0.1)

    pinger = asyncio.create_task(keep_pinging())
    try:
        assert await alex.closed(within=WAIT) == 4408
        while (frame := await host.recv()) and frame["type"] == "pong":
            pass
        assert frame == {"type": "peer-left", "peer": alex.peer, "reason": "timeout"}
    finally:
        pinger.cancel()


async def test_one_sweep_refreshes_every_seat_of_the_process_in_one_call(
    world: World, open_socket: Opener, settings, monkeypatch: pytest.MonkeyPatch
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=5)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    store = get_presence()
    batches: list[list[str]] = []
    singles: list[str] = []
    three = asyncio.Event()
    refresh_many, refresh = store.refresh_many, store.refresh

    async def counted_many(refreshes: Any) -> Any:
        batches.append(sorted(peer for _, peer, _ in refreshes))
        if len(batches) == 3:
            three.set()
        return await refresh_many(refreshes)

    async def counted(room_id: int, peer: str, ttl: float) -> Any:
        singles.append(peer)
        return await refresh(room_id, peer, ttl)

    monkeypatch.setattr(store, "refresh_many", counted_many)
    monkeypatch.setattr(store, "refresh", counted)
    await asyncio.wait_for(three.wait(), WAIT)
    assert all(batch == sorted([host.peer, alex.peer]) for batch in batches)
    assert singles == []  # no tick refreshed its own seat
    await host.send({"type": "ping"})
    await host.expect("pong")
    assert await host.nothing()


async def test_a_sweep_that_cannot_refresh_the_seats_says_so_once_not_once_per_socket(
    world: World, open_socket: Opener, settings, monkeypatch: pytest.MonkeyPatch, caplog
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=5)
    host = await joined(open_socket, world.host, world.slug)
    await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    failed: list[int] = []
    three = asyncio.Event()

    async def unreachable(refreshes: Any) -> Any:
        failed.append(len(refreshes))
        if len(failed) == 3:
            three.set()
        raise ConnectionError("presence is unreachable")

    monkeypatch.setattr(get_presence(), "refresh_many", unreachable)
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(three.wait(), WAIT)
    said = [r for r in caplog.records if "refreshing 2 seats failed" in r.getMessage()]
    assert len(said) >= 3
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    await host.send({"type": "ping"})
    await host.expect("pong")


async def test_no_join_is_closed_4408(world: World, open_socket: Opener, settings):
    fast_timers(settings)
    socket = await open_socket(world.alex, world.slug)
    assert await socket.closed() == 4408


async def test_a_pinging_socket_may_wait_on_the_pre_join_screen(
    world: World, open_socket: Opener, settings
):
    """The call page opens its socket before Join is pressed and keeps it alive
    with pings for as long as the person stays on the pre-join screen."""
    fast_timers(settings)  # silent for 0.5 s: closed
    socket = await open_socket(world.alex, world.slug)
    for _ in range(6):  # 1.2 s in all, well past the timeout
        await asyncio.sleep(0.2)
        await socket.send({"type": "ping"})
        await socket.expect("pong")
    await socket.join()
    assert socket.welcome["peers"] == []
    await socket.disconnect()


async def test_crashed_process_peers_are_reaped_and_announced_once(
    world: World, open_socket: Opener, settings
):
    """A seat whose connection stopped refreshing (its server process died)
    expires; the next refresh in the room removes it and announces it once."""
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=2)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    # What a consumer in another process does on join, and then that process dies.
    ghost = Entry(peer="GhostPeer123", user=world.sam.pk, channel="specific.dead!x", name="Sam",
                  host=False, state={})  # fmt: skip
    assert (await get_presence().join(world.room.pk, ghost, capacity=4, ttl=0.2)).admitted
    await get_channel_layer().group_send(
        room_group(world.room.pk), {"type": "peer.joined", "entry": ghost.to_dict()}
    )
    for socket in (host, alex):
        await socket.expect("peer-joined")
        await socket.expect("peer-left", peer=ghost.peer, reason="timeout")
    assert await host.nothing()
    assert await alex.nothing()
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 2}


async def test_periodic_recheck_closes_revoked_access(world: World, open_socket: Opener, settings):
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30, RECHECK_INTERVAL=0.1)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    # Removed behind the services' back: no event, only the re-check notices.
    await in_thread(Membership.objects.filter(room=world.room, user=world.alex.user).delete)
    assert await alex.closed() == 4403
    await host.expect("peer-left", peer=alex.peer, reason="removed")


async def test_recheck_notices_a_session_logged_out_elsewhere(
    world: World, open_socket: Opener, settings
):
    from django.contrib.sessions.models import Session

    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30, RECHECK_INTERVAL=0.1)
    alex = await joined(open_socket, world.alex, world.slug)
    await in_thread(Session.objects.filter(session_key=world.alex.session).delete)
    assert await alex.closed() == 4401


async def test_recheck_notices_a_room_ended_from_a_shell(
    world: World, open_socket: Opener, settings
):
    from django.utils import timezone

    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30, RECHECK_INTERVAL=0.1)
    alex = await joined(open_socket, world.alex, world.slug)
    await in_thread(Room.objects.filter(pk=world.room.pk).update, ended_at=timezone.now())
    assert await alex.closed() == 4410


async def test_locking_keeps_people_already_in_the_call(
    world: World, open_socket: Opener, settings
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30, RECHECK_INTERVAL=0.1)
    alex = await joined(open_socket, world.alex, world.slug)
    await in_thread(services.room_set_locked, room=world.room, by=None, locked=True)
    await asyncio.sleep(0.3)  # a few re-checks
    await alex.send({"type": "ping"})
    await alex.expect("pong")


async def test_password_change_or_deactivation_is_noticed_by_the_recheck(
    world: World, open_socket: Opener, settings
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30, RECHECK_INTERVAL=0.1)
    alex = await joined(open_socket, world.alex, world.slug)
    sam = await joined(open_socket, world.sam, world.slug)

    def change_password() -> None:
        world.alex.user.set_password("another")
        world.alex.user.save()

    await in_thread(change_password)
    assert await alex.closes() == 4401
    await in_thread(User.objects.filter(pk=world.sam.pk).update, is_active=False)
    assert await sam.closes() == 4401


async def test_welcome_lists_peers_in_join_order(world: World, open_socket: Opener):
    first = [
        await joined(open_socket, person, world.slug)
        for person in (world.sam, world.host, world.alex)
    ]
    jo = await joined(open_socket, world.jo, world.slug)
    assert [peer["peer"] for peer in jo.welcome["peers"]] == [s.peer for s in first]
    assert [peer["name"] for peer in jo.welcome["peers"]] == ["sam", "민지", "alex"]
    assert [peer["host"] for peer in jo.welcome["peers"]] == [False, True, False]


async def test_a_failing_handler_answers_server_error_and_the_socket_lives(
    world: World, open_socket: Opener, monkeypatch
):
    host = await joined(open_socket, world.host, world.slug)
    memory = get_presence()

    async def broken(*args, **kwargs):
        raise RuntimeError("presence is down")

    monkeypatch.setattr(memory, "set_state", broken)
    await host.send({"type": "state", "state": {"muted": True}, "ref": "s1"})
    await host.expect("error", code="server-error", ref="s1")
    await host.send({"type": "ping"})
    await host.expect("pong")


async def test_connect_failure_closes_1011(world: World, open_socket: Opener, monkeypatch):
    from signaling import access

    def broken(**kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(access, "admit", broken)
    socket = await open_socket(world.alex, world.slug)
    assert await socket.closed() == 1011


async def test_a_peer_whose_seat_expired_is_closed_4408_and_announced_once(
    world: World, open_socket: Opener, settings
):
    """A connection that stalled past PRESENCE_TTL loses its seat to the next
    refresh in the room; it closes itself when it sees that announced."""
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    room = presence._memory._rooms[world.room.pk]
    entry, _ = room[alex.peer]
    room[alex.peer] = (entry, 0.0)  # expired long ago, as if alex's process had hung
    assert await alex.closed() == 4408
    await host.expect("peer-left", peer=alex.peer, reason="timeout")
    await alex.disconnect()
    assert await host.nothing()


async def test_a_seat_lost_without_explanation_is_announced_by_its_owner(
    world: World, open_socket: Opener, settings
):
    """If presence forgets a seat (say Redis restarted empty), its connection
    notices within two ticks, says so, and closes (4408: reconnect)."""
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    presence._memory._rooms[world.room.pk].pop(alex.peer)
    assert await alex.closed() == 4408
    await host.expect("peer-left", peer=alex.peer, reason="timeout")
    await alex.disconnect()
    assert await host.nothing()


async def test_signals_from_a_peer_no_longer_in_the_room_are_dropped(
    world: World, open_socket: Opener
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    channel = presence._memory._rooms[world.room.pk][alex.peer][0].channel
    late = {"type": "offer", "from": "GonePeer1234", "sdp": "v=0"}
    await get_channel_layer().send(
        channel, {"type": "peer.signal", "from": "GonePeer1234", "text": json.dumps(late)}
    )
    await host.send({"type": "offer", "to": alex.peer, "sdp": "v=0\r\nreal"})
    assert await alex.recv() == {"type": "offer", "from": host.peer, "sdp": "v=0\r\nreal"}


async def test_host_rights_are_confirmed_against_the_database(world: World, open_socket: Opener):
    promote = Membership.objects.filter(room=world.room, user=world.alex.user)
    await in_thread(promote.update, role=Membership.Role.HOST)
    sam = await joined(open_socket, world.sam, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    assert alex.welcome["host"] is True
    await sam.expect("peer-joined")
    await sam.expect("acting-host", peer=None)  # a host is in the call now
    await in_thread(promote.update, role=Membership.Role.MEMBER)  # demoted meanwhile
    await alex.send({"type": "kick", "peer": sam.peer, "ref": "k"})
    await alex.expect("error", code="forbidden", ref="k")
    await alex.send({"type": "end", "ref": "e"})
    await alex.expect("error", code="forbidden", ref="e")
    await sam.send({"type": "ping"})
    await sam.expect("pong")


async def test_logs_never_carry_sdp_candidates_sessions_or_turn_secrets(
    world: World, open_socket: Opener, settings, caplog
):
    settings.TURN_URLS = ["turn:turn.example.com:3478"]
    settings.TURN_SECRET = "turn-secret-value"
    caplog.set_level(logging.DEBUG)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    secret_sdp = "v=0\r\na=fingerprint:sha-256 AA:BB:CC:SECRETSDP"
    candidate = {"candidate": "candidate:9 1 udp 1 198.51.100.7 40000 typ srflx"}
    await alex.send({"type": "offer", "to": host.peer, "sdp": secret_sdp})
    await host.expect("offer")
    await alex.send({"type": "candidate", "to": host.peer, "candidate": candidate})
    await host.expect("candidate")
    await alex.send({"type": "offer", "to": "nobody", "sdp": secret_sdp})
    await alex.expect("error")
    await alex.send({"type": "ice-servers"})
    credential = (await alex.expect("ice-servers"))["ice"]["servers"][0]["credential"]
    await host.send({"type": "kick", "peer": alex.peer})
    assert await alex.closed() == 4000
    logged = caplog.text
    assert "signaling joined" in logged  # the logs are there ...
    for secret in ("SECRETSDP", "198.51.100.7", world.alex.session, world.host.session,
                   "turn-secret-value", credential):  # fmt: skip
        assert secret not in logged  # ... and hold none of these


# --- Handled as it arrives (receive_now, under daphne) ---------------------------------


async def alex_and_sam(world: World, open_socket: Opener) -> tuple[Socket, Socket, Any]:
    """Alex and sam in the call, and the consumer behind alex's socket."""
    alex = await joined(open_socket, world.alex, world.slug)
    sam = await joined(open_socket, world.sam, world.slug)
    await alex.expect("peer-joined")
    return alex, sam, consumer_of(alex, world.room.pk)


@pytest.mark.parametrize(
    "text", ['{"type":"ping"}', '{"type": "ping"}', '{"type":"ping","ref":"p1"}']
)
async def test_a_ping_is_answered_as_it_arrives_and_only_a_browsers_own_without_a_parse(
    world: World, open_socket: Opener, monkeypatch: pytest.MonkeyPatch, text: str
):
    alex = await joined(open_socket, world.alex, world.slug)
    consumer = consumer_of(alex, world.room.pk)
    parsed: list[str] = []
    parse = protocol.parse_client_message

    def counted(frame: str, limits: Any) -> Any:
        parsed.append(frame)
        return parse(frame, limits)

    monkeypatch.setattr(consumers, "parse_client_message", counted)
    assert consumer.receive_now({"type": "websocket.receive", "text": text})
    await alex.expect("pong")
    # What JSON.stringify({type: "ping"}) sends is known valid as it is.
    assert parsed == ([] if text == '{"type":"ping"}' else [text])


async def test_a_ping_over_the_rate_limit_is_left_to_receive(world: World, open_socket: Opener):
    alex = await joined(open_socket, world.alex, world.slug)
    consumer = consumer_of(alex, world.room.pk)
    consumer.bucket.rate = 0.0
    consumer.bucket.tokens = 0.0
    message = {"type": "websocket.receive", "text": '{"type":"ping"}'}
    assert not consumer.receive_now(message)


async def test_a_relay_to_a_peer_in_this_process_is_handed_over_as_it_arrives(
    world: World, open_socket: Opener
):
    alex, sam, consumer = await alex_and_sam(world, open_socket)
    candidate = {
        "candidate": "candidate:1 1 udp 1 127.0.0.1 40000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": None,
    }
    frame = {"type": "candidate", "to": sam.peer, "candidate": candidate}
    message = {"type": "websocket.receive", "text": json.dumps(frame) + " " * 60}
    assert consumer.receive_now(message)
    assert await sam.expect("candidate") == {
        "type": "candidate",
        "from": alex.peer,
        "candidate": candidate,
    }


async def test_a_relay_to_a_peer_in_another_process_leaves_without_waiting_and_reports_failure(
    world: World, open_socket: Opener
):
    alex, sam, consumer = await alex_and_sam(world, open_socket)
    # As alex's process sees sam on another process behind the Redis layer.
    consumer.receivers = {}
    handed: list[tuple[str, dict, Callable[[BaseException], None]]] = []
    consumer.send_soon = lambda channel, event, failed: handed.append((channel, event, failed))
    frame = {"type": "answer", "to": sam.peer, "sdp": "v=0\r\n" + "a=x\r\n" * 20, "ref": "a1"}
    assert consumer.receive_now({"type": "websocket.receive", "text": json.dumps(frame)})
    [(channel, event, failed)] = handed
    sam_entry = consumer.peers[sam.peer]
    assert channel == sam_entry.channel
    assert event["from"] == alex.peer
    assert json.loads(event["text"]) == {"type": "answer", "from": alex.peer, "sdp": frame["sdp"]}
    # Redis did not take the batch: alex hears of it, as of any failed frame.
    failed(ConnectionError("Redis is unreachable"))
    await alex.expect("error", code="server-error", ref="a1")
    await alex.send({"type": "ping"})
    await alex.expect("pong")


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "candidate", "to": "Vx3k9QmT2pLa", "candidate": {"candidate": "x" * 80}},
        {"type": "state", "state": {"hand": True}, "ref": "r" * 60},
    ],
    ids=["to-nobody", "not-a-relay"],
)
async def test_anything_else_goes_on_to_receive_with_its_parse(
    world: World, open_socket: Opener, frame: dict
):
    alex = await joined(open_socket, world.alex, world.slug)
    consumer = consumer_of(alex, world.room.pk)
    message: dict[str, object] = {"type": "websocket.receive", "text": json.dumps(frame)}
    assert not consumer.receive_now(message)
    assert message["parsed"] == protocol.parse_client_message(json.dumps(frame), consumer.limits)
