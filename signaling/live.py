"""Synchronous reads of who is in which call, for the admin and room pages."""

import logging
from collections.abc import Iterable
from typing import NamedTuple

from redis import RedisError

from .hosts import acting_host
from .presence import get_presence

logger = logging.getLogger(__name__)


def participant_counts(room_ids: Iterable[int]) -> dict[int, int]:
    """Live participant count per room id (rooms with nobody in the call are omitted).

    One Redis round trip for any number of rooms. A page must still render
    when Redis is down, so that case counts as nobody.
    """
    ids = sorted({int(room_id) for room_id in room_ids})
    if not ids:
        return {}
    try:
        return get_presence().count_sync(ids)
    except RedisError:
        logger.warning("signaling: participant counts unavailable (Redis error)")
        return {}


class LiveCall(NamedTuple):
    """A room's call now, for its page: how many are in it, and who leads it
    by the names shown in the call: the hosts there or, none there, the
    acting host (signaling/hosts.py)."""

    people: int
    acting: str | None
    hosts: list[str]


NOBODY = LiveCall(0, None, [])


def live_call(room_id: int) -> LiveCall:
    """Who is in a room's call now. One Redis round trip; nobody when Redis
    is down (the page still renders)."""
    try:
        entries = get_presence().entries_sync(int(room_id))
    except RedisError:
        logger.warning("signaling: live call unavailable (Redis error)")
        return NOBODY
    acting = acting_host(entries)
    names = {entry.peer: entry.name for entry in entries}
    return LiveCall(
        len(entries),
        names[acting] if acting is not None else None,
        [entry.name for entry in entries if entry.host],
    )
