"""Tell live call connections about changes made outside them (views, admin).

Called from ``transaction.on_commit`` in ``rooms.services`` so a rolled-back
change never disconnects anyone. Each function is one ``group_send``; the
consumers in every server process act on it. A change to who may be in a
room, and a logout, is also noted in presence first (``note_access_change``),
for the sockets whose admission is under way and who join the group too late
to hear the event.
"""

import hashlib
import logging
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .groups import room_group, user_group
from .presence import get_presence

logger = logging.getLogger(__name__)


def session_fingerprint(session_key: str) -> str:
    """Session keys never travel through the channel layer, only this digest."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def note_access_change(*, room_id: int | None = None, user_id: int | None = None) -> None:
    """A socket admitted at this moment checks again before it takes a seat
    (``Presence.note_access_change_sync``). Should Redis fail here, the
    periodic re-check (``RECHECK_INTERVAL``) still closes such a socket."""
    try:
        get_presence().note_access_change_sync(room_id=room_id, user_id=user_id)
    except redis.RedisError:
        logger.warning(
            "signaling: could not note the access change of room=%s user=%s", room_id, user_id
        )


def room_ended(*, room_id: int) -> None:
    """Disconnect everyone in the room's call (close code 4410)."""
    note_access_change(room_id=room_id)
    _group_send(room_group(room_id), {"type": "room.ended"})


def member_removed(*, room_id: int, user_id: int) -> None:
    """Disconnect a user who is no longer a member of the room (close code 4403)."""
    note_access_change(room_id=room_id)
    _group_send(room_group(room_id), {"type": "member.removed", "user": user_id})


def session_ended(*, user_id: int, session_key: str) -> None:
    """Disconnect the sockets opened with a session that just logged out (4401)."""
    note_access_change(user_id=user_id)
    _group_send(
        user_group(user_id),
        {"type": "session.ended", "session": session_fingerprint(session_key)},
    )


def guests_removed(*, room_id: int, participant_ids: list[int]) -> None:
    """Disconnect guests whose access ended (invite revoked): close code 4411."""
    note_access_change(room_id=room_id)
    _group_send(room_group(room_id), {"type": "guests.removed", "participants": participant_ids})


def lobby_changed(*, room_id: int, on: bool) -> None:
    """The room's lobby was turned on or off: everyone in the call is told,
    and with it off, whoever waits takes their seat (signaling/lobby.py)."""
    _group_send(room_group(room_id), {"type": "lobby.state", "on": on})
