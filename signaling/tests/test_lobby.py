"""The lobby: knock, admit, deny (docs/protocol.md, "The lobby")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer

from rooms.models import AuditEvent, Membership, Room
from signaling import lobby
from signaling.groups import room_group

from .conftest import Opener, Person, Socket, World, fast_timers, in_thread, joined


async def lobby_on(world: World, **more: Any) -> None:
    rooms = Room.objects.filter(pk=world.room.pk)
    await in_thread(lambda: rooms.update(lobby_enabled=True, **more))


async def waiting(open_socket: Opener, person: Person, world: World) -> tuple[Socket, dict]:
    socket = await open_socket(person, world.slug)
    await socket.send({"type": "join", "name": f"{person.user.username} in lobby"})
    frame = await socket.expect("lobby", state="waiting")
    return socket, frame


async def test_waiter_is_not_seated_and_hosts_see_the_knock(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    assert host.welcome["room"]["lobby"] is True
    sam, frame = await waiting(open_socket, world.sam, world)
    assert frame["host"] is True
    assert frame["name"] == "sam in lobby"
    knock = await host.expect("knock", name="sam in lobby", guest=False)
    assert knock["id"] == frame["id"]
    # Not seated: nobody heard a peer-joined, and heartbeats still work.
    assert await host.nothing()
    await sam.send({"type": "ping"})
    await sam.expect("pong")
    await sam.send({"type": "state", "state": {"audio": False}})
    await sam.expect("error", code="not-joined")
    await sam.send({"type": "join"})
    await sam.expect("error", code="already-joined")


async def test_knocks_reach_hosts_only(world: World, open_socket: Opener):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await lobby_on(world)
    await waiting(open_socket, world.sam, world)
    await host.expect("knock", name="sam in lobby")
    assert await alex.nothing()


async def test_admit_seats_the_waiter_with_the_id_the_hosts_knew(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await host.send({"type": "admit", "id": frame["id"]})
    welcome = await sam.expect("welcome")
    assert welcome["peer"] == frame["id"]
    assert [p["peer"] for p in welcome["peers"]] == [host.peer]
    first, second = await host.recv(), await host.recv()
    assert {first["type"], second["type"]} == {"peer-joined", "knock-gone"}


async def test_deny_closes_the_waiter_with_4405(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await host.send({"type": "deny", "id": frame["id"]})
    assert await sam.closed() == 4405
    await host.expect("knock-gone", id=frame["id"])


async def test_admit_all_and_deny_all(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    sam, _ = await waiting(open_socket, world.sam, world)
    jo, _ = await waiting(open_socket, world.jo, world)
    await host.expect("knock")
    await host.expect("knock")
    await host.send({"type": "deny", "id": "*"})
    assert await sam.closed() == 4405
    assert await jo.closed() == 4405
    alex, _ = await waiting(open_socket, world.alex, world)
    await host.expect("knock-gone")
    await host.expect("knock-gone")
    await host.expect("knock", name="alex in lobby")
    await host.send({"type": "admit", "id": "*"})
    await alex.expect("welcome")


async def test_a_non_host_cannot_admit_or_deny_and_nothing_changes(
    world: World, open_socket: Opener
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await lobby_on(world)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    for kind in ("admit", "deny"):
        await alex.send({"type": kind, "id": frame["id"], "ref": kind})
        await alex.expect("error", code="forbidden", ref=kind)
    await alex.send({"type": "lobby", "on": False, "ref": "off"})
    await alex.expect("error", code="forbidden", ref="off")
    assert await sam.nothing()
    assert await host.nothing()
    room = await in_thread(lambda: Room.objects.get(pk=world.room.pk))
    assert room.lobby_enabled is True


async def test_bad_lobby_frames_get_a_clear_error(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    await host.send({"type": "admit", "id": "nobody", "ref": "a"})
    error = await host.expect("error", code="unknown-peer", ref="a")
    assert "nobody" in error["message"]
    await host.send({"type": "deny", "id": 7, "ref": "b"})
    await host.expect("error", code="invalid", ref="b")
    await host.send({"type": "admit", "ref": "c"})
    await host.expect("error", code="invalid", ref="c")
    await host.send({"type": "lobby", "on": "yes", "ref": "d"})
    error = await host.expect("error", code="invalid", ref="d")
    assert error["message"].startswith("on:")


async def test_admitted_into_a_full_room_is_closed_with_4409(world: World, open_socket: Opener):
    await lobby_on(world, max_participants=2)
    host = await joined(open_socket, world.host, world.slug)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await make_alex_host(world)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await host.send({"type": "admit", "id": frame["id"]})
    assert await sam.closed() == 4409
    await host.expect("knock-gone", id=frame["id"])
    assert alex.welcome["peer"]


async def make_alex_host(world: World) -> None:
    """Alex becomes a host: the lobby lets him straight in."""
    await in_thread(
        lambda: Membership.objects.filter(room=world.room, user=world.alex.user).update(
            role=Membership.Role.HOST
        )
    )


async def test_a_host_joining_later_sees_everyone_already_waiting(
    world: World, open_socket: Opener
):
    await lobby_on(world)
    sam, frame = await waiting(open_socket, world.sam, world)
    assert frame["host"] is False
    await waiting(open_socket, world.jo, world)
    host = await joined(open_socket, world.host, world.slug)
    names = {(await host.expect("knock"))["name"], (await host.expect("knock"))["name"]}
    assert names == {"sam in lobby", "jo in lobby"}
    told = await sam.expect("lobby", state="waiting")
    assert told["host"] is True
    # The host leaves: the waiters hear that nobody can admit them now.
    await host.send({"type": "leave"})
    told = await sam.expect("lobby", state="waiting")
    assert told["host"] is False


async def test_a_host_leaving_leaves_the_knocks_with_the_other_host(
    world: World, open_socket: Opener
):
    await make_alex_host(world)
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await alex.expect("knock")
    await host.send({"type": "leave"})
    await alex.expect("peer-left")
    await alex.send({"type": "admit", "id": frame["id"]})
    await sam.expect("welcome")


async def test_a_waiter_who_leaves_disappears_from_the_knocks(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await sam.disconnect()
    await host.expect("knock-gone", id=frame["id"])
    await host.send({"type": "admit", "id": frame["id"], "ref": "late"})
    await host.expect("error", code="unknown-peer", ref="late")


async def test_a_waiter_whose_process_died_leaves_the_hosts_list_when_its_lease_ends(
    world: World, open_socket: Opener, settings: Any, monkeypatch: pytest.MonkeyPatch
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=10)
    monkeypatch.setattr(lobby, "KNOCK_EVERY", 0.1)
    monkeypatch.setattr(lobby, "KNOCK_LEASE", 0.5)
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock", id=frame["id"])
    # A waiter on a server process that then died: it knocked once, and
    # nobody will ever say it is gone.
    ghost = lobby.Waiter(id="ghostGhost12", name="ghost", guest=False, fields={})
    await get_channel_layer().group_send(
        room_group(world.room.pk), lobby.knock_event(ghost, "specific.dead!gone")
    )
    await host.expect("knock", id=ghost.id)
    # sam keeps knocking and stays; the ghost's lease runs out.
    await host.expect("knock-gone", id=ghost.id, within=3)
    await asyncio.sleep(2 * lobby.KNOCK_LEASE)
    assert await host.nothing()
    await host.send({"type": "admit", "id": frame["id"]})
    welcome = await sam.expect("welcome")
    assert welcome["peer"] == frame["id"]


async def test_the_host_toggle_is_audited_tells_everyone_and_seats_waiters(
    world: World, open_socket: Opener
):
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await host.send({"type": "lobby", "on": True})
    for socket in (host, alex):
        await socket.expect("lobby-state", on=True)
    sam, _ = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await host.send({"type": "lobby", "on": False})
    await sam.expect("welcome")
    room = await in_thread(lambda: Room.objects.get(pk=world.room.pk))
    assert room.lobby_enabled is False
    details = await in_thread(
        lambda: list(
            AuditEvent.objects.filter(room=world.room, action=AuditEvent.Action.ROOM_UPDATED)
            .order_by("created_at")
            .values_list("details", flat=True)
        )
    )
    assert details == [{"lobby_enabled": [False, True]}, {"lobby_enabled": [True, False]}]


async def test_a_host_walks_straight_in_with_the_lobby_on(world: World, open_socket: Opener):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    assert host.welcome["host"] is True


async def test_a_room_locked_while_someone_waits_refuses_them_when_admitted(
    world: World, open_socket: Opener
):
    await lobby_on(world)
    host = await joined(open_socket, world.host, world.slug)
    sam, frame = await waiting(open_socket, world.sam, world)
    await host.expect("knock")
    await in_thread(lambda: Room.objects.filter(pk=world.room.pk).update(is_locked=True))
    await host.send({"type": "admit", "id": frame["id"]})
    assert await sam.closed() == 4423
    await host.expect("knock-gone", id=frame["id"])
    assert await host.nothing()  # nobody took a seat
