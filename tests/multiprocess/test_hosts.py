"""The acting host across two real daphne processes on one Redis, for each
channel layer: both processes reach the same answer from presence, and only
the acting host's host-only frames are carried out."""

from __future__ import annotations

import pytest

from .conftest import Cluster, Meeting

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]


async def test_the_acting_host_is_the_same_everywhere_and_only_it_may_mute_or_kick(
    cluster: Cluster, meeting: Meeting, peers
):
    slug = meeting.room.slug
    host = await peers(cluster.a, slug, meeting.host.session)
    await host.join()
    first = await peers(cluster.b, slug, meeting.members[0].session)
    await first.join()
    second = await peers(cluster.a, slug, meeting.members[1].session)
    await second.join()
    assert [p.welcome["acting"] for p in (host, first, second)] == [None, None, None]
    await host.expect("peer-joined")
    await host.expect("peer-joined")
    await first.expect("peer-joined")

    await host.send({"type": "leave"})
    for member in (first, second):
        await member.expect("peer-left", peer=host.peer, reason="left")
        await member.expect("acting-host", peer=first.peer)

    # The member on the other process is refused; the acting host is obeyed.
    await second.send({"type": "mute", "peer": first.peer, "ref": "m"})
    await second.expect("error", code="forbidden", ref="m")
    await first.send({"type": "mute", "all": True})
    assert await second.recv() == {"type": "mute-request", "from": first.peer}
    await first.send({"type": "kick", "peer": second.peer})
    assert await second.closes() == 4000
    await first.expect("peer-left", peer=second.peer, reason="kicked")

    # A host coming back, on the acting host's own process this time, ends it.
    back = await peers(cluster.b, slug, meeting.host.session)
    assert (await back.join())["acting"] is None
    await first.expect("peer-joined")
    await first.expect("acting-host", peer=None)
    await first.send({"type": "mute", "peer": back.peer, "ref": "late"})
    await first.expect("error", code="forbidden", ref="late")
