"""Who may act as a host in a live call (docs/protocol.md, "Hosts in the call").

The room's hosts (its owner and members with the host role) always may. When
none of them is in the call, the **acting host** may: the participant who has
been in the call longest, that is the presence entry with the lowest join
``seq`` (ties, possible only after Redis lost its data, go to the smaller
peer id). The rule reads nothing but the presence entries of the room, so
every server process, and every connection's own copy of the room, reaches
the same answer from the same entries. It moves whenever they change: a
host (re)joining ends it, the acting host leaving hands it to the next
longest-present participant. Guests (a negative participant id) are never
acting host: with only guests and members, the longest-present member is.

An acting host may do in the call what a host may (``kick``, ``mute``,
lowering hands), but not end the meeting: that closes the room itself for
everyone until a host reopens it, which is a decision about the room and
not about this call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Seat(Protocol):
    """What the rule needs of a presence entry (``signaling.presence.Entry``)."""

    @property
    def peer(self) -> str: ...

    @property
    def host(self) -> bool: ...

    @property
    def seq(self) -> int: ...


def acting_host(seats: Iterable[Seat]) -> str | None:
    """The acting host's peer id, or ``None`` when a host is in the call (or
    nobody is)."""
    longest: Seat | None = None
    for seat in seats:
        if seat.host:
            return None
        if getattr(seat, "user", 0) < 0:
            continue  # a guest (negative participant id) never acts as host
        if longest is None or (seat.seq, seat.peer) < (longest.seq, longest.peer):
            longest = seat
    return longest.peer if longest is not None else None


def acting_host_frame(peer: str | None) -> dict[str, Any]:
    """``acting-host``: who acts as host now (``None``: nobody needs to)."""
    return {"type": "acting-host", "peer": peer}


def mute_request_frame(sender: str) -> dict[str, Any]:
    """``mute-request``, as its addressee gets it: ``from`` stamped by the server."""
    return {"type": "mute-request", "from": sender}
