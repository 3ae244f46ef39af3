"""The server's own limits, against a real daphne: one frame limit with the
protocol's close code, and a bound on what waits for a client that stopped
reading. Neither costs the server memory or disturbs anyone else."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import ConnectionClosed

from accounts.models import User
from rooms import services
from rooms.models import Membership
from signaling.access import closes_connections
from tests.servers import DaphneServer
from tests.sessions import session_for

from .conftest import Meeting, WsPeer, people_in_the_room

pytestmark = [pytest.mark.multiprocess]

KIB = 1024
MIB = 1024 * KIB
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def rss(server: DaphneServer) -> int:
    assert server.proc is not None
    with open(f"/proc/{server.proc.pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def other_room() -> tuple[str, list[str]]:
    """A second room with two members: the room that must keep relaying."""
    owner = User.objects.create_user("other-host", password="pw")
    room = services.room_create(owner=owner, name="Other", max_participants=4)
    guest = User.objects.create_user("other-guest", password="pw")
    Membership.objects.create(room=room, user=guest)
    return room.slug, [session_for(owner), session_for(guest)]


async def relays(a: WsPeer, b: WsPeer, count: int = 5) -> None:
    for index in range(count):
        await a.send({"type": "offer", "to": b.peer, "sdp": f"{SDP}a=n:{index}\r\n"})
    for index in range(count):
        frame = await b.expect("offer")
        assert frame["from"] == a.peer
        assert frame["sdp"].endswith(f"a=n:{index}\r\n")


async def test_a_client_still_sending_its_oversized_frame_loses_its_seat_at_once(
    server: DaphneServer, meeting: Meeting, peers
):
    """A client busy sending the rest of a huge frame cannot answer the
    close; autobahn then drops the connection without a code (a lost socket,
    whose seat would be held for resuming). The seat goes with the 4413."""
    host, member, sender = await people_in_the_room(server, meeting, peers, 3)

    # The header of a masked 8 MiB text frame and a little of its payload;
    # the rest never comes, so the client's own answer to the close (sent
    # after these bytes) is read by the server as more of the same payload.
    header = bytes([0x81, 0x80 | 127]) + (8 * MIB).to_bytes(8, "big") + b"mask"
    sender.ws.transport.write(header + b"x" * KIB)
    await host.expect("peer-left", peer=sender.peer, reason="left")
    await member.expect("peer-left", peer=sender.peer, reason="left")
    await relays(host, member)


@pytest.mark.parametrize("size", [64 * KIB + 1, MIB + 1, 8 * MIB])
async def test_an_oversized_frame_is_closed_4413_without_buffering_it(
    server: DaphneServer, meeting: Meeting, peers, size: int
):
    slug, sessions = await database_sync_to_async(closes_connections(other_room))()
    first = await peers(server, slug, sessions[0])
    await first.join()
    second = await peers(server, slug, sessions[1])
    await second.join()
    await first.expect("peer-joined")
    host = await peers(server, meeting.room.slug, meeting.host.session)
    await host.join()
    before = rss(server)

    for round_ in range(3):
        attacker = await peers(server, meeting.room.slug, meeting.members[round_].session)
        await attacker.join()
        await host.expect("peer-joined")
        with contextlib.suppress(ConnectionClosed):
            await attacker.ws.send("x" * size)
        assert await attacker.closes() == 4413
        await host.expect("peer-left", peer=attacker.peer, reason="left")
        await relays(first, second)

    # Three frames of `size` went in; none was held in memory.
    assert rss(server) - before < 4 * MIB
    await relays(second, first)


async def test_a_reader_that_stops_reading_is_closed_and_the_room_carries_on(
    server: DaphneServer, meeting: Meeting, peers
):
    sender, reader, fast = await people_in_the_room(server, meeting, peers, 3)
    before = rss(server)

    # The reader's client takes nothing more off the socket (it keeps pinging,
    # so no heartbeat timeout helps); the sender keeps offering it 30 KB SDPs
    # (within its rate limit) and the fast peer its share, which it reads.
    reader.ws.transport.pause_reading()
    big = SDP + "a=x:" + "y" * (30 * KIB) + "\r\n"
    offered = 0
    left = None
    for index in range(900):
        await sender.send({"type": "offer", "to": reader.peer, "sdp": big})
        offered += len(big)
        if index % 10 == 0:
            await sender.send({"type": "offer", "to": fast.peer, "sdp": f"{SDP}a=n:{index}\r\n"})
            frame = await fast.expect("offer")
            assert frame["from"] == sender.peer
            assert frame["sdp"].endswith(f"a=n:{index}\r\n")  # in order, nothing lost
        with contextlib.suppress(TimeoutError):
            left = await asyncio.wait_for(sender.ws.recv(), timeout=1 / 45)
        if left is not None:
            break
    assert left is not None, f"the reader was never given up ({offered} bytes offered)"
    assert '"peer-left"' in left
    await fast.expect("peer-left", peer=reader.peer, reason="timeout")
    # Given up once the socket's buffers were full and MAX_QUEUE (1 MiB) more
    # waited: the server's memory grew by a bounded amount, not by what the
    # sender went on offering.
    assert offered > MIB
    assert rss(server) - before < 8 * MIB
    await relays(sender, fast)
    await relays(fast, sender)


async def test_a_text_frame_that_is_not_utf8_is_closed_4400_and_the_room_carries_on(
    server: DaphneServer, meeting: Meeting, peers
):
    host, member, sender = await people_in_the_room(server, meeting, peers, 3)

    # A text frame whose bytes are not UTF-8 (the client library would not
    # send one from a str, so the frame is written below its API).
    sender.ws.protocol.send_text(b'{"type": "chat", "text": "\xc3\x28"}')
    sender.ws.send_data()
    assert await sender.closes() == 4400
    # Closed for what the client did: its seat is given up at once, not held.
    await host.expect("peer-left", peer=sender.peer, reason="left")
    await member.expect("peer-left", peer=sender.peer, reason="left")
    await relays(host, member)
    await relays(member, host)
