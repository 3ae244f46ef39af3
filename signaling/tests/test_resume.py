"""Resume (docs/protocol.md, "Resume"): a lost socket's seat is held, and a new
socket with the seat's token gets it back under the same peer id; the others
see no one leave or join. Tokens from another account, for another room, or
expired are refused with 4412 and change nothing."""

from __future__ import annotations

import asyncio
import time

import pytest

from rooms import services
from rooms.models import Membership
from signaling import resume
from signaling.presence import get_presence
from signaling.protocol import CloseCode

from .conftest import Opener, Socket, World, fast_timers, in_thread, joined

SDP = "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
STATE = {"muted": True, "camera": True, "screen": False, "hand": True}


def timers(settings, **overrides: float) -> None:
    """``fast_timers``, with time to resume: a heartbeat timeout and a grace
    of 5 s unless a test shortens them."""
    fast_timers(settings, **{"HEARTBEAT_TIMEOUT": 5, "RESUME_GRACE": 5, **overrides})


async def next_frame(socket: Socket, within: float = 3.0) -> dict:
    """The next frame that is not a token refresh or a pong."""
    while (frame := await socket.recv(within))["type"] in {"resume-token", "pong"}:
        pass
    return frame


async def nothing(socket: Socket) -> bool:
    """Nothing but token refreshes arrives for a moment."""
    try:
        await next_frame(socket, within=0.1)
    except TimeoutError:
        return True
    return False


async def lose(socket: Socket) -> None:
    """The network took the socket away (no leave, no normal close)."""
    await socket.disconnect(code=1006)


# --- Tokens ------------------------------------------------------------------------------


def test_a_token_names_its_peer_for_its_user_and_room_only():
    token = resume.issue(room_id=3, user_id=7, peer="Qe81bZc0YwHs")
    assert resume.verify(token, room_id=3, user_id=7, max_age=90) == "Qe81bZc0YwHs"
    for room_id, user_id in ((3, 8), (4, 7)):
        with pytest.raises(resume.ResumeRefused):
            resume.verify(token, room_id=room_id, user_id=user_id, max_age=90)
    peer, issued, mac = token.split(".")
    for forged in (f"other.{issued}.{mac}", f"{peer}.{int(issued, 16) + 1:x}.{mac}", "x", "a.zz.b"):
        with pytest.raises(resume.ResumeRefused):
            resume.verify(forged, room_id=3, user_id=7, max_age=90)


def test_a_token_outlives_the_grace_period_by_its_refresh_interval():
    # Grace 60 s, heartbeat 10 s: a new token every 30 s, each good for 90 s.
    assert resume.refresh_interval(60, 10) == 30
    assert resume.lifetime(60, 10) == 90
    assert resume.refresh_interval(1, 10) == 10
    now = time.time()
    fresh = resume.issue(room_id=3, user_id=7, peer="p", now=now - 89)
    assert resume.verify(fresh, room_id=3, user_id=7, max_age=90) == "p"
    old = resume.issue(room_id=3, user_id=7, peer="p", now=now - 91)
    with pytest.raises(resume.ResumeRefused, match="expired"):
        resume.verify(old, room_id=3, user_id=7, max_age=90)
    with pytest.raises(resume.ResumeRefused):
        resume.verify(fresh, room_id=3, user_id=7, max_age=0)


# --- Resuming a seat ------------------------------------------------------------------------


async def test_resume_gives_back_the_same_peer_id_and_the_others_see_no_leave_or_join(
    world: World, open_socket: Opener, settings
):
    timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await lose(alex)
    again = await open_socket(world.alex, world.slug)
    welcome = await again.join(resume=alex.welcome["resume"], state=STATE)
    assert welcome["peer"] == alex.peer
    assert welcome["resumed"] is True
    # A resumed seat starts no negotiation: its pairs go on.
    assert [(p["peer"], p["offer"]) for p in welcome["peers"]] == [(host.peer, False)]
    assert welcome["resume"].startswith(f"{alex.peer}.")
    # The others see the same peer come back with its state, nothing else.
    assert await host.recv() == {"type": "peer-resumed", "peer": alex.peer, "state": STATE}
    assert await host.nothing()
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 2}
    # The relay finds the new socket under the old id, both ways.
    await host.send({"type": "offer", "to": alex.peer, "sdp": SDP, "gen": 3})
    assert await again.recv() == {"type": "offer", "from": host.peer, "sdp": SDP, "gen": 3}
    await again.send({"type": "answer", "to": host.peer, "sdp": SDP, "gen": 3})
    assert await host.recv() == {"type": "answer", "from": alex.peer, "sdp": SDP, "gen": 3}


async def test_a_lost_seat_not_resumed_in_time_is_freed_and_announced_timeout(
    world: World, open_socket: Opener, settings
):
    timers(settings, RESUME_GRACE=0.2)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await lose(alex)
    # Held: nothing is announced at once...
    assert await host.nothing()
    # ...then, after the grace period, freed by the next refresh in the room.
    frame = await next_frame(host)
    assert frame == {"type": "peer-left", "peer": alex.peer, "reason": "timeout"}
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 1}
    late = await open_socket(world.alex, world.slug)
    await late.send({"type": "join", "resume": alex.welcome["resume"]})
    assert await late.closed() == CloseCode.RESUME_REFUSED
    assert await nothing(host)


async def test_closing_the_socket_normally_gives_up_the_seat_at_once(
    world: World, open_socket: Opener, settings
):
    timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.disconnect(code=1000)
    await host.expect("peer-left", peer=alex.peer, reason="left")


@pytest.mark.parametrize("code", [1001, CloseCode.TOO_LARGE, CloseCode.FLOOD])
async def test_a_socket_closed_on_purpose_gives_up_the_seat_at_once(
    world: World, open_socket: Opener, settings, code: int
):
    """A page that navigated away (1001), or a socket the server closed for
    what its client did (4xxx), is not waiting to resume."""
    timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    await alex.disconnect(code=code)
    assert await next_frame(host) == {"type": "peer-left", "peer": alex.peer, "reason": "left"}


async def test_a_held_seat_keeps_its_place_under_the_cap(
    world: World, open_socket: Opener, settings
):
    timers(settings)
    await in_thread(type(world.room).objects.filter(pk=world.room.pk).update, max_participants=2)
    host = await joined(open_socket, world.host, world.slug)
    await joined(open_socket, world.sam, world.slug)
    await lose(host)
    alex = await open_socket(world.alex, world.slug)
    await alex.send({"type": "join"})
    assert await alex.closed() == CloseCode.FULL
    again = await open_socket(world.host, world.slug)
    assert (await again.join(resume=host.welcome["resume"]))["peer"] == host.peer


async def test_a_half_open_old_socket_is_closed_and_replaced_by_the_resume(
    world: World, open_socket: Opener, settings
):
    timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    # The browser gave up on its socket, the server has not noticed yet.
    again = await open_socket(world.alex, world.slug)
    welcome = await again.join(resume=alex.welcome["resume"])
    assert welcome["peer"] == alex.peer
    assert await alex.closes() == CloseCode.REPLACED
    await alex.disconnect(code=1006)
    await host.expect("peer-resumed", peer=alex.peer)
    assert await host.nothing()
    await host.send({"type": "offer", "to": alex.peer, "sdp": SDP})
    await again.expect("offer", **{"from": host.peer})


async def test_a_silent_client_is_closed_and_its_seat_held_for_resuming(
    world: World, open_socket: Opener, settings
):
    timers(settings, HEARTBEAT_TIMEOUT=0.5)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")

    async def keep_pinging() -> None:
        while True:
            await host.send({"type": "ping"})
            await asyncio.sleep(0.1)

    pinger = asyncio.create_task(keep_pinging())
    try:
        # Alex sends nothing (a dead network path): 4408, but the seat waits.
        assert await alex.closed(within=3.0) == CloseCode.TIMEOUT
        await alex.disconnect(code=1006)
        again = await open_socket(world.alex, world.slug)
        assert (await again.join(resume=alex.welcome["resume"]))["peer"] == alex.peer
        assert (await next_frame(host))["type"] == "peer-resumed"
    finally:
        pinger.cancel()


async def test_the_server_refreshes_the_token_while_connected(
    world: World, open_socket: Opener, settings
):
    timers(settings, RESUME_GRACE=0.2, HEARTBEAT_INTERVAL=0.1)
    alex = await joined(open_socket, world.alex, world.slug)
    frame = await alex.expect("resume-token", within=3.0)
    peer = resume.verify(frame["token"], room_id=world.room.pk, user_id=world.alex.pk, max_age=9)
    assert peer == alex.peer


# --- Refused tokens ---------------------------------------------------------------------


async def assert_seat_untouched(world: World, host: Socket, alex: Socket) -> None:
    """Alex's real seat is as it was: same channel, nothing announced."""
    assert await host.nothing()
    await host.send({"type": "offer", "to": alex.peer, "sdp": SDP})
    assert await alex.recv() == {"type": "offer", "from": host.peer, "sdp": SDP}
    assert await get_presence().count([world.room.pk]) == {world.room.pk: 2}


async def test_a_token_stolen_by_another_account_is_refused_4412(
    world: World, open_socket: Opener, settings
):
    timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    thief = await open_socket(world.sam, world.slug)
    await thief.send({"type": "join", "resume": alex.welcome["resume"]})
    assert await thief.closed() == CloseCode.RESUME_REFUSED
    await assert_seat_untouched(world, host, alex)


async def test_an_expired_token_is_refused_4412(world: World, open_socket: Opener, settings):
    timers(settings)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    # Grace 5 s, heartbeat 10 s: tokens live 15 s.
    old = resume.issue(
        room_id=world.room.pk, user_id=world.alex.pk, peer=alex.peer, now=time.time() - 16
    )
    again = await open_socket(world.alex, world.slug)
    await again.send({"type": "join", "resume": old})
    assert await again.closed() == CloseCode.RESUME_REFUSED
    await assert_seat_untouched(world, host, alex)


async def test_another_rooms_token_is_refused_4412(world: World, open_socket: Opener, settings):
    timers(settings)
    other = await in_thread(services.room_create, owner=world.host.user, name="다른 방")
    await in_thread(Membership.objects.create, room=other, user=world.alex.user)
    host = await joined(open_socket, world.host, world.slug)
    alex = await joined(open_socket, world.alex, world.slug)
    await host.expect("peer-joined")
    elsewhere = await joined(open_socket, world.alex, other.slug)
    # The other room's token names a peer of the other room; this room refuses it.
    intruder = await open_socket(world.alex, world.slug)
    await intruder.send({"type": "join", "resume": elsewhere.welcome["resume"]})
    assert await intruder.closed() == CloseCode.RESUME_REFUSED
    await assert_seat_untouched(world, host, alex)
