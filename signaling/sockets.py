"""How many sockets one account holds open in this server process.

A signed-in member could otherwise open any number of sockets that never
join (each pings, so the heartbeat keeps it). Every admitted socket claims a
place here and gives it back when it goes: at most ``MAX_SOCKETS_PER_ROOM``
for one user in one room, ``MAX_SOCKETS_PER_USER`` for one user in all rooms
together; past either, the new socket is closed with 4002 (docs/protocol.md,
"Close codes").

The count is this process's own. With several server processes behind a load
balancer a user holds at most the cap on each of them: still a bound, and it
costs the connect path no round trip to Redis.
"""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

K = TypeVar("K")


class SocketCounts:
    """Open sockets per user, and per (user, room)."""

    def __init__(self) -> None:
        self.per_user: Counter[int] = Counter()
        self.per_room: Counter[tuple[int, int]] = Counter()

    def claim(self, user: int, room: int, *, per_room: int, per_user: int) -> bool:
        """Count one more socket of ``user`` in ``room``, unless that would
        pass a cap (then nothing changes and the answer is False)."""
        key = (user, room)
        if self.per_room[key] >= per_room or self.per_user[user] >= per_user:
            return False
        self.per_room[key] += 1
        self.per_user[user] += 1
        return True

    def release(self, user: int, room: int) -> None:
        """Give back a place taken by ``claim``."""
        _decrement(self.per_room, (user, room))
        _decrement(self.per_user, user)

    def __len__(self) -> int:
        return sum(self.per_user.values())


def _decrement(counter: Counter[K], key: K) -> None:
    if counter[key] > 1:
        counter[key] -= 1
    else:
        counter.pop(key, None)


_counts = SocketCounts()


def get_counts() -> SocketCounts:
    """This process's counts (one event loop, so no lock is needed)."""
    return _counts
