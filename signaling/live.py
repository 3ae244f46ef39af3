"""Synchronous read of who is in which call, for the admin and room pages."""

import logging
from collections.abc import Iterable

from redis import RedisError

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
