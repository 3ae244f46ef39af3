"""Two real daphne processes on one real Redis, for each channel layer: peers
on different processes negotiate, see each other come and go, and share the
room's seats atomically."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Membership
from signaling.access import closes_connections

from .conftest import TIMERS, Closed, Cluster, Meeting, WsPeer

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def test_peers_on_two_processes_negotiate_and_see_each_other(
    cluster: Cluster, meeting: Meeting, peers
):
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    alex = await peers(cluster.b, slug, meeting.members[0].session)
    await alex.join()
    assert [p["peer"] for p in alex.welcome["peers"]] == [host.peer]
    assert alex.welcome["peers"][0]["offer"] is True
    joined = await host.expect("peer-joined")
    assert joined["peer"]["peer"] == alex.peer

    # The newcomer offers; candidates trickle both ways; "from" is stamped.
    await alex.send({"type": "offer", "to": host.peer, "sdp": SDP, "from": "forged"})
    assert await host.recv() == {"type": "offer", "from": alex.peer, "sdp": SDP}
    await host.send({"type": "answer", "to": alex.peer, "sdp": SDP})
    assert await alex.recv() == {"type": "answer", "from": host.peer, "sdp": SDP}
    for index in range(5):
        candidate = {"candidate": f"candidate:{index} 1 udp 1 127.0.0.1 {5000 + index} typ host",
                     "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "u"}  # fmt: skip
        await alex.send({"type": "candidate", "to": host.peer, "candidate": candidate})
        await host.send({"type": "candidate", "to": alex.peer, "candidate": candidate})
    for receiver, sender in ((host, alex), (alex, host)):
        for index in range(5):  # in order
            frame = await receiver.expect("candidate")
            assert frame["from"] == sender.peer
            assert frame["candidate"]["candidate"].startswith(f"candidate:{index} ")

    await alex.send({"type": "state", "state": {"muted": True}})
    await host.expect("peer-state", peer=alex.peer)
    await alex.send({"type": "leave"})
    assert await alex.closed() == 1000
    await host.expect("peer-left", peer=alex.peer, reason="left")


async def test_a_third_peer_never_sees_another_pairs_signals(
    cluster: Cluster, meeting: Meeting, peers
):
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    alex = await peers(cluster.b, slug, meeting.members[0].session)
    await alex.join()
    sam = await peers(cluster.b, slug, meeting.members[1].session)
    await sam.join()
    await host.expect("peer-joined")
    await host.expect("peer-joined")
    await alex.expect("peer-joined")
    await alex.send({"type": "offer", "to": host.peer, "sdp": SDP})
    await host.expect("offer", **{"from": alex.peer})
    # The next thing Sam receives is what is addressed to Sam.
    await host.send({"type": "offer", "to": sam.peer, "sdp": "v=0\r\nfor-sam"})
    assert await sam.recv() == {"type": "offer", "from": host.peer, "sdp": "v=0\r\nfor-sam"}


async def test_cap_race_across_processes(cluster: Cluster, meeting: Meeting, peers):
    """Six members on two processes race for four seats: exactly four get in."""
    slug = meeting.room.slug
    racers = [
        await peers((cluster.a, cluster.b)[index % 2], slug, member.session)
        for index, member in enumerate(meeting.members)
    ]
    await asyncio.gather(*(racer.send({"type": "join"}) for racer in racers))

    async def outcome(racer: WsPeer) -> str | int | None:
        try:
            return (await racer.recv())["type"]
        except Closed as closed:
            return closed.code

    outcomes = await asyncio.gather(*(outcome(racer) for racer in racers))
    assert sorted(outcomes, key=str) == [4409, 4409, "welcome", "welcome", "welcome", "welcome"]


async def test_same_account_on_two_processes_newest_wins(cluster: Cluster, meeting: Meeting, peers):
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    old = await peers(cluster.a, slug, meeting.members[0].session)
    await old.join()
    await host.expect("peer-joined")
    new = await peers(cluster.b, slug, meeting.members[0].session)
    await new.join()
    assert await old.closed() == 4001
    await host.expect("peer-left", peer=old.peer, reason="replaced")
    frame = await host.expect("peer-joined")
    assert frame["peer"]["peer"] == new.peer


async def test_kick_end_and_removal_reach_other_processes(
    cluster: Cluster, meeting: Meeting, peers
):
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    alex = await peers(cluster.b, slug, meeting.members[0].session)
    await alex.join()
    sam = await peers(cluster.b, slug, meeting.members[1].session)
    await sam.join()
    jo = await peers(cluster.a, slug, meeting.members[2].session)
    await jo.join()
    for _ in range(3):
        await host.expect("peer-joined")

    await host.send({"type": "kick", "peer": alex.peer})
    assert await alex.closes() == 4000
    await host.expect("peer-left", peer=alex.peer, reason="kicked")

    # Removing a membership here, in the test process, closes the socket there.
    membership = await database_sync_to_async(closes_connections(Membership.objects.get))(
        room=meeting.room, user=meeting.members[1].user
    )
    await database_sync_to_async(closes_connections(services.membership_remove))(
        membership=membership, by=None
    )
    assert await sam.closes() == 4403
    await host.expect("peer-left", peer=sam.peer, reason="removed")

    await host.send({"type": "end"})
    assert await host.closes() == 4410
    assert await jo.closes() == 4410


async def test_a_killed_process_peers_are_reaped_and_announced(
    cluster: Cluster, meeting: Meeting, peers, start_server
):
    doomed = start_server(cluster.layer)
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    alex = await peers(cluster.b, slug, meeting.members[0].session)
    await alex.join()
    await host.expect("peer-joined")
    ghost = await peers(doomed, slug, meeting.members[1].session)
    await ghost.join()
    await host.expect("peer-joined")
    await alex.expect("peer-joined")

    doomed.kill()
    killed_at = time.monotonic()
    # Its seats are held for their browsers to resume elsewhere, then reaped.
    bound = sum(
        float(TIMERS[name])
        for name in ("SIGNALING_PRESENCE_TTL", "SIGNALING_RESUME_GRACE", "SIGNALING_TICK")
    )
    for survivor in (host, alex):
        await survivor.expect("peer-left", peer=ghost.peer, reason="timeout", within=bound + 5)
    # Documented bound: PRESENCE_TTL + RESUME_GRACE + TICK after the last
    # refresh (plus slack for a loaded test machine).
    assert time.monotonic() - killed_at < bound + 2.0
    # Exactly once: the survivors still talk, and nothing else arrives first.
    await alex.send({"type": "offer", "to": host.peer, "sdp": SDP})
    await host.expect("offer", **{"from": alex.peer})


async def test_a_killed_process_peer_resumes_on_the_other_and_nobody_sees_it_leave(
    cluster: Cluster, meeting: Meeting, peers, start_server
):
    doomed = start_server(cluster.layer)
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    alex = await peers(doomed, slug, meeting.members[0].session)
    await alex.join(state={"muted": True})
    await host.expect("peer-joined")
    token = alex.token

    doomed.kill()
    # The browser comes back through the other process, with its token.
    again = await peers(cluster.b, slug, meeting.members[0].session)
    welcome = await again.join(resume=token, state={"muted": True, "camera": False})
    assert welcome["resumed"] is True
    assert welcome["peer"] == alex.peer
    assert [(p["peer"], p["offer"]) for p in welcome["peers"]] == [(host.peer, False)]
    # The host hears the same peer came back: no peer-left, no peer-joined.
    resumed = await host.expect("peer-resumed", peer=alex.peer)
    assert resumed["state"]["camera"] is False
    # Relaying reaches the new socket under the old peer id, both ways.
    await host.send({"type": "offer", "to": alex.peer, "sdp": SDP, "gen": 3})
    assert await again.recv() == {"type": "offer", "from": host.peer, "sdp": SDP, "gen": 3}
    await again.send({"type": "answer", "to": host.peer, "sdp": SDP, "gen": 3})
    assert await host.recv() == {"type": "answer", "from": alex.peer, "sdp": SDP, "gen": 3}
    # Long after the dead process's seat would have been reaped, still there.
    grace = float(TIMERS["SIGNALING_PRESENCE_TTL"]) + float(TIMERS["SIGNALING_RESUME_GRACE"])
    await asyncio.sleep(grace + 1)  # the scenario is the passing of time
    await again.send({"type": "state", "state": {"muted": False}})
    frame = await host.expect("peer-state", peer=alex.peer)
    assert frame["state"]["muted"] is False


async def test_a_seat_not_resumed_in_time_is_freed_and_its_token_refused(
    cluster: Cluster, meeting: Meeting, peers, start_server
):
    doomed = start_server(cluster.layer)
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    alex = await peers(doomed, slug, meeting.members[0].session)
    await alex.join()
    await host.expect("peer-joined")
    token = alex.token
    doomed.kill()
    await host.expect("peer-left", peer=alex.peer, reason="timeout", within=15)
    late = await peers(cluster.b, slug, meeting.members[0].session)
    await late.send({"type": "join", "resume": token})
    assert await late.closed() == 4412
    # A fresh join still works (the browser's next step after 4412).
    fresh = await peers(cluster.b, slug, meeting.members[0].session)
    welcome = await fresh.join()
    assert welcome["resumed"] is False
    assert welcome["peer"] != alex.peer
    await host.expect("peer-joined")
