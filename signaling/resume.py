"""Resume tokens: proof that a new socket may take over a seat (docs/protocol.md, "Resume").

A token names a peer id and when it was issued, and carries an HMAC (keyed by
``SECRET_KEY``) over the room, the user, the peer id and that time. Any server
process can check it without asking anyone, and it is useless to another
account or for another room: the MAC covers both, and they are taken from the
socket (its session and URL), never from the token. Whether the seat is still
held is presence's answer, not the token's.

The server sends a fresh token every ``refresh_interval`` (half the grace
period, but never more often than the heartbeat) and each lives for the grace
period plus that interval, so the one a browser holds when its socket drops is
still good for at least the whole grace period.
"""

from __future__ import annotations

import base64
import time

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "meet.signaling.resume"


class ResumeRefused(Exception):
    """The token does not let this socket resume (why, for the log)."""


def _mac(room_id: int, user_id: int, peer: str, issued: int) -> str:
    digest = salted_hmac(SALT, f"{room_id}:{user_id}:{peer}:{issued}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def issue(*, room_id: int, user_id: int, peer: str, now: float | None = None) -> str:
    """A token for ``peer``'s seat in the room, for this user."""
    issued = int(time.time() if now is None else now)
    return f"{peer}.{issued:x}.{_mac(room_id, user_id, peer, issued)}"


def refresh_interval(grace: float, heartbeat: float) -> float:
    """How often a connected socket gets a fresh token (seconds)."""
    return max(grace / 2, heartbeat)


def lifetime(grace: float, heartbeat: float) -> float:
    """How long a token stays valid (seconds)."""
    return grace + refresh_interval(grace, heartbeat)


def verify(token: str, *, room_id: int, user_id: int, max_age: float) -> str:
    """The peer id ``token`` lets this user resume in this room; raises
    ``ResumeRefused`` when it is malformed, forged, someone else's, another
    room's, or older than ``max_age`` seconds (``lifetime``)."""
    if max_age <= 0:
        raise ResumeRefused("resume disabled")
    parts = token.split(".")
    if len(parts) != 3 or not parts[0]:
        raise ResumeRefused("malformed")
    peer, issued_hex, mac = parts
    try:
        issued = int(issued_hex, 16)
    except ValueError:
        raise ResumeRefused("malformed") from None
    if not constant_time_compare(mac, _mac(room_id, user_id, peer, issued)):
        raise ResumeRefused("not this user's or this room's")
    age = time.time() - issued
    if age > max_age or age < -60:
        raise ResumeRefused("expired")
    return peer
