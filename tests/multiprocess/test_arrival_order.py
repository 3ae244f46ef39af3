"""Against a real daphne, where a socket's messages can be handled as they
arrive (signaling.inbox, ``receive_now``) or in the connection's task: one
socket's messages keep their order and their rate limit whichever path
handles each of them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.servers import DaphneServer

from .conftest import WAIT, Meeting, WsPeer, people_in_the_room

pytestmark = [pytest.mark.multiprocess]


# A well-formed peer id that is nobody's: an `unknown-peer` error.
NOBODY = "Vx3k9QmT2pLa"


def line(n: int) -> dict:
    return {"candidate": f"candidate:{n} 1 udp 2122260223 127.0.0.1 {40000 + abs(n)} typ host"}


def number(candidate: dict) -> int:
    return int(candidate["candidate"].split()[0].removeprefix("candidate:"))


async def raw_frames(peer: WsPeer, count: int) -> list[dict]:
    """The next ``count`` frames as sent, pongs included."""
    return [json.loads(await peer.ws.recv()) for _ in range(count)]


async def test_a_ping_sent_with_a_join_is_answered_after_the_welcome(
    server: DaphneServer, meeting: Meeting, peers
):
    peer = await peers(server, meeting.room.slug, meeting.host.session)
    # Both frames go out at once: the ping arrives while the join is handled.
    await peer.ws.send(json.dumps({"type": "join"}))
    await peer.ws.send(json.dumps({"type": "ping"}))
    welcome, pong = await raw_frames(peer, 2)
    assert welcome["type"] == "welcome"
    assert pong == {"type": "pong"}


async def test_one_sockets_messages_arrive_in_the_order_it_sent_them(
    server: DaphneServer, meeting: Meeting, peers
):
    sender, receiver = await people_in_the_room(server, meeting, peers, 2)
    sender.stop_pinging()  # its own heartbeat's pongs would interleave below

    # Relays and state changes (the usual path), pings (answered at once
    # when nothing waits) and relays to nobody (an error), in one burst, so
    # that each arrives while the one before may still be handled.
    burst: list[dict[str, Any]] = []
    for n in range(30):
        burst.append({"type": "candidate", "to": receiver.peer, "candidate": line(n)})
        if n % 7 == 3:
            burst.append({"type": "state", "state": {"hand": n % 2 == 1}})
        if n % 11 == 5:
            burst.append({"type": "ping"})
            burst.append({"type": "candidate", "to": NOBODY, "candidate": line(-n)})
    for frame in burst:
        await sender.ws.send(json.dumps(frame))

    expected = [
        ("candidate", number(frame["candidate"]))
        if frame["type"] == "candidate"
        else ("state", frame["state"]["hand"])
        for frame in burst
        if frame["type"] == "state" or frame.get("to") == receiver.peer
    ]
    seen = []
    for _ in expected:
        frame = await receiver.recv(WAIT)
        if frame["type"] == "candidate":
            assert frame["from"] == sender.peer
            seen.append(("candidate", number(frame["candidate"])))
        else:
            assert frame["type"] == "peer-state", frame
            seen.append(("state", frame["state"]["hand"]))
    assert seen == expected

    # The sender's own answers, in order too: a pong before each error.
    answers = [
        frame["type"]
        for frame in await raw_frames(sender, 2 * sum(f["type"] == "ping" for f in burst))
    ]
    assert answers == ["pong", "error"] * (len(answers) // 2)


async def test_pings_count_towards_the_rate_limit(server: DaphneServer, meeting: Meeting, peers):
    peer = await peers(server, meeting.room.slug, meeting.host.session)
    await peer.join()
    sent = 300  # half again the burst (200), faster than the rate (50/s) refills it
    for _ in range(sent):
        await peer.ws.send('{"type": "ping"}')
    frames = await raw_frames(peer, sent)
    answered = sum(frame == {"type": "pong"} for frame in frames)
    refused = [frame for frame in frames if frame["type"] == "error"]
    assert answered + len(refused) == sent
    assert {frame["code"] for frame in refused} == {"rate-limited"}
    assert 195 <= answered < sent  # the burst, and what refilled while they came


async def test_relays_count_towards_the_rate_limit(server: DaphneServer, meeting: Meeting, peers):
    sender, receiver = await people_in_the_room(server, meeting, peers, 2)
    sender.stop_pinging()
    receiver.stop_pinging()
    sent = 300  # half again the burst (200), faster than the rate (50/s) refills it
    for n in range(sent):
        await sender.ws.send(
            json.dumps({"type": "candidate", "to": receiver.peer, "candidate": line(n)})
        )
    # Every candidate is either relayed or refused to its sender.
    relayed: list[dict] = []
    refused: list[dict] = []
    all_in = asyncio.Event()

    async def collect(peer: WsPeer, into: list[dict]) -> None:
        while True:
            into.append(await peer.recv(WAIT))
            if len(relayed) + len(refused) == sent:
                all_in.set()

    readers = [
        asyncio.create_task(collect(receiver, relayed)),
        asyncio.create_task(collect(sender, refused)),
    ]
    try:
        await asyncio.wait_for(all_in.wait(), WAIT)
    finally:
        for reader in readers:
            reader.cancel()
    assert {frame["code"] for frame in refused} == {"rate-limited"}
    numbers = [number(frame["candidate"]) for frame in relayed]
    assert numbers == sorted(numbers)  # in the order sent, the refused ones left out
    assert 195 <= len(relayed) < sent  # the burst, and what refilled while they came
