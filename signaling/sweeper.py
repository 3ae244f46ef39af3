"""One periodic sweep per process over every open call socket.

Every ``TICK`` the sweep runs each connection's ``tick`` (heartbeat timeout,
presence refresh and reaping), and every connection whose re-check is due
gets it, all of them in one database call on a reader thread. A ticker task
per socket did the same at the cost of a task, a timer and a wake-up per
socket every few seconds, which was most of what thousands of idle sockets
cost (docs/benchmarks.md).

A connection's tick and re-check still run under its own lock, after what it
is already doing (``Connection.run_or_post``), so the rules of consumers.py
("one thing at a time per connection") hold as before. The seats themselves
are refreshed first, all in one call to presence (``refresh_many``: with
Redis one pipelined round trip per sweep, not one per socket), and each tick
takes its seat's result; should that call fail, the sweep logs it once and
the ticks skip their presence part, as a failed refresh of their own would.

Each sweep first reads presence's epoch. When it changed since the last
sweep, Redis lost its data (it restarted empty): before their tick, every
connection re-asserts its seat, and two ticks later each one forgets peers
whose seats never came back (signaling/recovery.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from typing import TYPE_CHECKING

from django.conf import settings

from . import access, recovery
from .presence import Refreshed, get_presence

if TYPE_CHECKING:
    from .consumers import CallConsumer

logger = logging.getLogger(__name__)


class Sweeper:
    """The sweep of one event loop (a server has one; the tests one per test)."""

    def __init__(self) -> None:
        self.connections: dict[CallConsumer, None] = {}
        self.task: asyncio.Task[None] | None = None
        self.rechecking: asyncio.Task[None] | None = None
        # The presence epoch seen by the last sweep, and when to reconcile
        # the connections' maps after a data loss.
        self.epoch: str | None = None
        self.reconcile_at: float | None = None

    def add(self, connection: CallConsumer) -> None:
        self.connections[connection] = None
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self.run())

    def discard(self, connection: CallConsumer) -> None:
        self.connections.pop(connection, None)

    async def run(self) -> None:
        await self.data_lost()  # the epoch the first connections join under
        while self.connections:
            await asyncio.sleep(float(settings.SIGNALING["TICK"]))
            try:
                await self.sweep()
            except Exception:
                logger.exception("signaling: sweep failed")

    async def data_lost(self) -> bool:
        """Whether presence lost its data since the last look (the epoch changed)."""
        try:
            epoch = await get_presence().epoch()
        except Exception as exc:
            logger.warning("signaling: presence epoch unavailable (%s)", exc)
            return False
        previous, self.epoch = self.epoch, epoch
        return previous is not None and previous != epoch

    async def sweep(self) -> None:
        lost = await self.data_lost()
        now = time.monotonic()
        if lost:
            logger.warning(
                "signaling: presence lost its data; re-asserting %d connections",
                len(self.connections),
            )
            self.reconcile_at = now + 2 * float(settings.SIGNALING["TICK"])
        reconcile = self.reconcile_at is not None and now >= self.reconcile_at
        if reconcile:
            self.reconcile_at = None
        # After a data loss each connection re-asserts its seat first, then
        # refreshes it in its own tick; otherwise all seats at once, here.
        refreshed = {} if lost else await self.refresh_all(now)
        due = []
        for connection in list(self.connections):
            if connection.closing:
                continue
            if lost:
                await connection.run_or_post(functools.partial(recovery.reassert, connection))
            await connection.run_or_post(
                functools.partial(connection.tick, refreshed.get(connection))
            )
            if reconcile:
                await connection.run_or_post(functools.partial(recovery.reconcile, connection))
            if not connection.closing and connection.next_recheck <= now:
                due.append(connection)
        if due and (self.rechecking is None or self.rechecking.done()):
            for connection in due:
                connection.next_recheck = now + connection.limits.recheck_interval
            self.rechecking = asyncio.ensure_future(self.recheck(due))

    async def refresh_all(self, now: float) -> dict[CallConsumer, Refreshed]:
        """The seats of every connection whose tick would refresh its own, in
        one call to presence (with Redis, one round trip instead of one per
        socket), for those ticks."""
        due = [c for c in self.connections if c.refresh_due(now)]
        if not due:
            return {}
        try:
            results = await get_presence().refresh_many(
                [(c.room_id, c.peer_id, c.seat_ttl) for c in due]
            )
        except Exception as exc:
            logger.warning("signaling: refreshing %d seats failed (%s)", len(due), exc)
            return {c: Refreshed(c.peer_id, None) for c in due}
        return {c: Refreshed(c.peer_id, r) for c, r in zip(due, results, strict=True)}

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
            connection.post(functools.partial(connection.apply_recheck, code, is_host))


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
