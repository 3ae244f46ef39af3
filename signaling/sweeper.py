"""One periodic sweep per process over every open call socket.

Every ``TICK`` the sweep

- closes the sockets whose heartbeat timed out (their ``tick``);
- refreshes the presence of every joined socket in one presence call
  (``Presence.refresh_many``: one pass per room, one Redis round trip in all),
  announces the expired seats that call reaped, and tells each connection
  whether its seat is still there (``CallConsumer.seat_lost`` after two
  ticks without it);
- and gives every connection whose re-check is due that re-check, all of
  them in one database call on a reader thread.

A ticker task per socket did the same at the cost of a task, a timer and a
wake-up per socket every few seconds, and a presence call per socket per
tick was most of what was left of the cost of thousands of idle sockets
(docs/benchmarks.md). What changes a connection's state (a timeout, a lost
seat, the outcome of a re-check) still runs under its own lock, after what
it is already doing (``Connection.run_or_post``), so the rules of
consumers.py ("one thing at a time per connection") hold as before.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from typing import TYPE_CHECKING

from django.conf import settings

from . import access
from .protocol import LeaveReason

if TYPE_CHECKING:
    from .consumers import CallConsumer
    from .presence import Presence

logger = logging.getLogger(__name__)


class Sweeper:
    """The sweep of one event loop (a server has one; the tests one per test)."""

    def __init__(self) -> None:
        self.connections: dict[CallConsumer, None] = {}
        self.task: asyncio.Task[None] | None = None
        self.rechecking: asyncio.Task[None] | None = None

    def add(self, connection: CallConsumer) -> None:
        self.connections[connection] = None
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self.run())

    def discard(self, connection: CallConsumer) -> None:
        self.connections.pop(connection, None)

    async def run(self) -> None:
        while self.connections:
            await asyncio.sleep(float(settings.SIGNALING["TICK"]))
            try:
                await self.sweep()
            except Exception:
                logger.exception("signaling: sweep failed")

    async def sweep(self) -> None:
        now = time.monotonic()
        due = []
        # presence store and entry TTL -> room id -> peer id -> its connection
        seats: dict[tuple[Presence, float], dict[int, dict[str, CallConsumer]]] = {}
        for connection in list(self.connections):
            if connection.closing:
                continue
            if now - connection.last_seen >= connection.limits.heartbeat_timeout:
                await connection.run_or_post(connection.tick)  # closes it
                continue
            if connection.joined:
                store = seats.setdefault((connection.presence, connection.limits.presence_ttl), {})
                store.setdefault(connection.room_id, {})[connection.peer_id] = connection
            if connection.next_recheck <= now:
                due.append(connection)
        for (presence, ttl), rooms in seats.items():
            try:
                await self.refresh(presence, ttl, rooms)
            except Exception:
                # Presence unreachable: seats are as they were; the next tick retries.
                logger.exception("signaling: refreshing %d rooms failed", len(rooms))
        if due and (self.rechecking is None or self.rechecking.done()):
            for connection in due:
                connection.next_recheck = now + connection.limits.recheck_interval
            self.rechecking = asyncio.ensure_future(self.recheck(due))

    async def refresh(
        self, presence: Presence, ttl: float, rooms: dict[int, dict[str, CallConsumer]]
    ) -> None:
        """Refresh every seat of ``rooms`` in one call, announce what it reaped
        (whoever removes a seat announces it) and tell each connection the
        outcome for its own seat."""
        results = await presence.refresh_many(rooms, ttl)
        for room_id, (present, reaped) in results.items():
            connections = rooms[room_id]
            if reaped:
                # Announced through one of the room's connections: a group send
                # that changes nothing of that connection (a seat of its own
                # among them closes it when the announcement arrives).
                announcer = next(iter(connections.values()))
                await announcer.announce_left(reaped, LeaveReason.TIMEOUT)
            for peer, connection in connections.items():
                if connection.closing or not connection.joined or connection.peer_id != peer:
                    continue  # left or was evicted meanwhile
                if peer in present:
                    connection.missing = False
                elif connection.missing:
                    connection.post(connection.seat_lost)
                else:
                    connection.missing = True

    async def recheck(self, connections: list[CallConsumer]) -> None:
        """The periodic database re-check, outside every connection's lock, so
        relaying never waits for the database."""
        checks = [access.Recheck(c.session_key, c.user.pk, c.slug) for c in connections]
        try:
            results = await access.read(access.recheck_many, checks=checks)
        except Exception:
            logger.exception("signaling: re-check of %d connections failed", len(connections))
            return
        for connection, (code, is_host) in zip(connections, results, strict=True):
            if not connection.closing:
                # In this task when the connection is idle (no task of its own).
                await connection.run_or_post(
                    functools.partial(connection.apply_recheck, code, is_host)
                )


_sweepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Sweeper] = (
    weakref.WeakKeyDictionary()
)


def get_sweeper() -> Sweeper:
    """The running event loop's sweeper."""
    loop = asyncio.get_running_loop()
    sweeper = _sweepers.get(loop)
    if sweeper is None:
        sweeper = _sweepers[loop] = Sweeper()
    return sweeper
