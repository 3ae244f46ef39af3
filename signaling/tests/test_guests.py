"""Guests in the call (docs/protocol.md, "Guests"): admitted by the guest pass in
their session, labelled, never a host, and removed at once."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.utils import timezone

from rooms import services
from rooms.guests import GUEST_PASS_KEY, GUEST_PASS_SALT, pass_issue
from rooms.models import Guest, Room

from .conftest import Opener, World, fast_timers, in_thread, joined

pytestmark = pytest.mark.django_db(transaction=True)

LIFETIME = timedelta(hours=12)


def _session_with(value: object) -> str:
    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store[GUEST_PASS_KEY] = value
    store.save()
    return str(store.session_key)


def _guest(room: Room, name: str = "손님") -> tuple[Guest, str]:
    _invite, token = services.invite_create(room=room, created_by=room.owner, allow_guests=True)
    guest = services.guest_join(token=token, display_name=name, lifetime=LIFETIME)
    return guest, _session_with(pass_issue(guest))


async def make_guest(room: Room, name: str = "손님") -> tuple[Guest, str]:
    return await in_thread(_guest, room, name)


async def guest_socket(open_socket: Opener, slug: str, session: str):
    return await open_socket(None, slug, session=session)


async def test_a_guest_is_admitted_and_labelled_guest(world: World, open_socket: Opener):
    guest, session = await make_guest(world.room)
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    welcome = await socket.join(name="Pretending to be 민지")
    assert welcome["guest"] is True
    assert welcome["host"] is False
    # A guest is shown under the name they joined with, whatever `join` says.
    assert welcome["name"] == "손님"
    assert welcome["peers"][0]["guest"] is False
    joined_frame = await host.expect("peer-joined")
    assert joined_frame["peer"]["guest"] is True
    assert joined_frame["peer"]["name"] == "손님"
    # TURN username and resume token use the guest's negative participant id.
    assert all(
        server.get("username", ":-").endswith(f":-{guest.pk}")
        for server in welcome["ice"]["servers"]
        if "username" in server
    )


@pytest.mark.parametrize(
    "value",
    [
        "forged",
        signing.dumps({"guest": 1, "room": 1}, salt="not-the-salt"),
        12,
    ],
    ids=["garbage", "wrong-salt", "not-a-string"],
)
async def test_a_forged_guest_pass_is_closed_with_4401(
    world: World, open_socket: Opener, value: object
):
    session = await in_thread(_session_with, value)
    socket = await guest_socket(open_socket, world.slug, session)
    assert await socket.closed() == 4401


async def test_a_tampered_guest_pass_is_closed_with_4401(world: World, open_socket: Opener):
    guest, _session = await make_guest(world.room)
    value = signing.dumps({"guest": guest.pk, "room": guest.room_id}, salt=GUEST_PASS_SALT)
    signature = value.partition(":")[2]
    # The real pass's signature on another guest's payload.
    other = signing.dumps({"guest": guest.pk + 1, "room": guest.room_id}, salt=GUEST_PASS_SALT)
    tampered = other.partition(":")[0] + ":" + signature
    session = await in_thread(_session_with, tampered)
    socket = await guest_socket(open_socket, world.slug, session)
    assert await socket.closed() == 4401


async def test_an_expired_or_removed_guest_is_closed_with_4401(world: World, open_socket: Opener):
    guest, session = await make_guest(world.room)
    await in_thread(
        Guest.objects.filter(pk=guest.pk).update,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    socket = await guest_socket(open_socket, world.slug, session)
    assert await socket.closed() == 4401


async def test_a_guest_pass_for_another_room_is_closed_with_4403(world: World, open_socket: Opener):
    other = await in_thread(services.room_create, owner=world.host.user, name="다른 방")
    _guest_row, session = await make_guest(other)
    socket = await guest_socket(open_socket, world.slug, session)
    assert await socket.closed() == 4403


async def test_a_guest_cannot_kick_mute_or_end(world: World, open_socket: Opener):
    _guest_row, session = await make_guest(world.room)
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    await socket.join()
    await host.expect("peer-joined")
    await socket.send({"type": "kick", "peer": host.peer, "ref": "k"})
    await socket.expect("error", code="forbidden", ref="k")
    await socket.send({"type": "mute", "peer": host.peer, "ref": "m"})
    await socket.expect("error", code="forbidden", ref="m")
    await socket.send({"type": "end", "ref": "e"})
    await socket.expect("error", code="forbidden", ref="e")
    room = await in_thread(Room.objects.get, pk=world.room.pk)
    assert room.ended_at is None
    assert await host.nothing()


async def test_a_guest_is_never_the_acting_host(world: World, open_socket: Opener):
    _guest_row, session = await make_guest(world.room)
    socket = await guest_socket(open_socket, world.slug, session)
    welcome = await socket.join()
    assert welcome["acting"] is None
    alex = await joined(open_socket, world.alex, world.slug)
    assert alex.welcome["acting"] == alex.peer
    await socket.expect("peer-joined")
    await socket.expect("acting-host", peer=alex.peer)


async def test_revoking_the_invite_closes_the_guest_with_4411_at_once(
    world: World, open_socket: Opener
):
    _guest_row, session = await make_guest(world.room)
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    await socket.join()
    await host.expect("peer-joined")
    invite = await in_thread(lambda: Guest.objects.select_related("invite__room").get().invite)
    await in_thread(services.invite_revoke, invite=invite, by=world.host.user)
    assert await socket.closes() == 4411
    await host.expect("peer-left", reason="removed")
    # Their pass no longer admits them.
    again = await guest_socket(open_socket, world.slug, session)
    assert await again.closed() == 4401


async def test_a_guest_removed_from_the_call_cannot_come_back_with_their_pass(
    world: World, open_socket: Opener
):
    guest, session = await make_guest(world.room, name="지수")
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    welcome = await socket.join()
    await host.expect("peer-joined")
    await host.send({"type": "kick", "peer": welcome["peer"]})
    assert await socket.closes() == 4000
    await host.expect("peer-left", reason="kicked")
    # The host's socket handles one frame at a time: its pong comes after the kick's record.
    await host.send({"type": "ping"})
    await host.expect("pong")

    def removed() -> tuple[bool, list[str]]:
        row = Guest.objects.get(pk=guest.pk)
        labels = list(
            world.room.audit_events.filter(action="member.kicked").values_list(
                "target_label", flat=True
            )
        )
        return row.removed_at is not None, labels

    assert await in_thread(removed) == (True, ["지수"])
    again = await guest_socket(open_socket, world.slug, session)
    assert await again.closed() == 4401


async def test_ending_the_meeting_closes_the_guest_and_reopening_does_not_readmit(
    world: World, open_socket: Opener
):
    _guest_row, session = await make_guest(world.room)
    socket = await guest_socket(open_socket, world.slug, session)
    await socket.join()
    await in_thread(services.room_end, room=world.room, by=world.host.user)
    assert await socket.closes() == 4410
    await in_thread(services.room_reopen, room=world.room, by=world.host.user)
    again = await guest_socket(open_socket, world.slug, session)
    assert await again.closed() == 4401


async def test_the_periodic_recheck_closes_a_guest_removed_behind_the_services_back(
    world: World, open_socket: Opener, settings
):
    fast_timers(settings, HEARTBEAT_TIMEOUT=30, PRESENCE_TTL=30, RECHECK_INTERVAL=0.1)
    guest, session = await make_guest(world.room)
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    await socket.join()
    await host.expect("peer-joined")
    await in_thread(Guest.objects.filter(pk=guest.pk).update, removed_at=timezone.now())
    assert await socket.closes() == 4411
    await host.expect("peer-left", reason="removed")


async def test_a_guest_in_a_locked_room_is_refused_with_4423(world: World, open_socket: Opener):
    _guest_row, session = await make_guest(world.room)
    await in_thread(services.room_set_locked, room=world.room, by=None, locked=True)
    socket = await guest_socket(open_socket, world.slug, session)
    assert await socket.closed() == 4423


async def test_a_guest_waits_in_the_lobby_when_it_is_on_and_is_admitted_as_a_guest(
    world: World, open_socket: Opener
):
    _guest_row, session = await make_guest(world.room)
    await in_thread(lambda: Room.objects.filter(pk=world.room.pk).update(lobby_enabled=True))
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    await socket.send({"type": "join", "name": "Pretending to be 민지"})
    frame = await socket.expect("lobby", state="waiting")
    knock = await host.expect("knock", name="손님", guest=True)
    assert knock["id"] == frame["id"]
    await host.send({"type": "admit", "id": frame["id"]})
    welcome = await socket.expect("welcome")
    assert (welcome["guest"], welcome["name"]) == (True, "손님")
    await host.expect("knock-gone", id=frame["id"])
    joined_frame = await host.expect("peer-joined")
    assert joined_frame["peer"]["guest"] is True


async def guest_in_the_lobby(world: World, open_socket: Opener):
    """A guest waiting in the lobby and the host who was told: (guest row,
    host, guest's socket, the guest's `lobby` frame)."""
    guest, session = await make_guest(world.room)
    await in_thread(lambda: Room.objects.filter(pk=world.room.pk).update(lobby_enabled=True))
    host = await joined(open_socket, world.host, world.slug)
    socket = await guest_socket(open_socket, world.slug, session)
    await socket.send({"type": "join"})
    frame = await socket.expect("lobby", state="waiting")
    await host.expect("knock", guest=True)
    return guest, host, socket, frame


async def test_revoking_the_invite_closes_a_guest_waiting_in_the_lobby(
    world: World, open_socket: Opener
):
    _guest, _host, socket, _frame = await guest_in_the_lobby(world, open_socket)
    invite = await in_thread(lambda: Guest.objects.select_related("invite__room").get().invite)
    await in_thread(services.invite_revoke, invite=invite, by=world.host.user)
    assert await socket.closes() == 4411


async def test_a_guest_whose_pass_ran_out_in_the_lobby_is_closed_4411_when_admitted(
    world: World, open_socket: Opener
):
    guest, host, socket, frame = await guest_in_the_lobby(world, open_socket)
    # The pass expires while the guest waits (no event: only time passed).
    await in_thread(lambda: Guest.objects.filter(pk=guest.pk).update(expires_at=timezone.now()))
    await host.send({"type": "admit", "id": frame["id"]})
    assert await socket.closes() == 4411
    await host.expect("knock-gone", id=frame["id"])
