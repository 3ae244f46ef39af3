"""Link summaries for operators (docs/protocol.md, ``links``).

Every browser in a call reports, every ``LINK_REPORT`` seconds (the
``SIGNALING`` setting, handed to it in ``welcome``; at most twice as often),
one line per pair it holds: the path its connection took (host, srflx,
prflx or relay; UDP or TCP), the round trip and the packet loss. The server
never relays it. It keeps the newest report of each participant in the
cache (Redis when configured, so every process and the admin see the same)
for three report intervals, and drops it when the participant leaves: nothing of
it outlives the meeting. Names are stamped here, from presence, never taken
from the report.

Django admin's room page (rooms/admin.py) shows, for a live room, who is
connected to whom over which path, with RTT and loss (``room_links``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.core.cache import cache
from redis import RedisError

from .presence import Entry, get_presence

logger = logging.getLogger(__name__)


def cache_key(room_id: int, peer: str) -> str:
    return f"meet:links:{int(room_id)}:{peer}"


class LinkRow(NamedTuple):
    """One pair as one side sees it."""

    reporter: str
    peer: str
    peer_id: str
    path: str | None
    transport: str | None
    rtt: float | None
    loss: float | None
    age: float


async def store(
    room_id: int,
    reporter: Entry,
    links: list[dict[str, Any]],
    peers: Mapping[str, Entry],
    *,
    keep: float,
) -> None:
    """Keep ``reporter``'s newest summary for ``keep`` seconds. Pairs with
    someone not in the room (left, never was) are dropped; names come from
    presence."""
    rows = [
        {
            "peer": link["peer"],
            "name": peers[link["peer"]].name,
            "path": link["path"],
            "transport": link["transport"],
            "rtt": link["rtt"],
            "loss": link["loss"],
        }
        for link in links
        if link["peer"] in peers
    ]
    report = {"name": reporter.name, "at": time.time(), "links": rows}
    try:
        await cache.aset(cache_key(room_id, reporter.peer), report, keep)
    except RedisError:
        logger.warning("signaling: link report not kept (Redis error) peer=%s", reporter.peer)


async def forget(room_id: int, peer: str) -> None:
    """The participant left: its summary goes with it."""
    try:
        await cache.adelete(cache_key(room_id, peer))
    except RedisError:
        logger.warning("signaling: link report not dropped (Redis error) peer=%s", peer)


def room_links(room_id: int) -> list[LinkRow] | None:
    """Every pair of the live call as its participants report it, in join
    order; ``None`` when presence or the cache cannot be read."""
    try:
        entries = get_presence().entries_sync(room_id)
        reports = cache.get_many([cache_key(room_id, entry.peer) for entry in entries])
    except RedisError:
        logger.warning("signaling: link reports unavailable (Redis error)")
        return None
    now = time.time()
    present = {entry.peer for entry in entries}
    rows = []
    for entry in entries:
        report = reports.get(cache_key(room_id, entry.peer))
        if not report:
            continue
        for link in report["links"]:
            if link["peer"] not in present:
                continue  # left since the report
            rows.append(
                LinkRow(
                    reporter=entry.name,
                    peer=link["name"],
                    peer_id=link["peer"],
                    path=link["path"],
                    transport=link["transport"],
                    rtt=link["rtt"],
                    loss=link["loss"],
                    age=max(0.0, now - report["at"]),
                )
            )
    return rows
