"""One periodic sweep per process over every open call socket.

Every ``TICK`` the sweep runs each connection's ``tick`` (heartbeat timeout,
presence refresh and reaping), and every connection whose re-check is due
gets it, all of them in one database call on a reader thread. A ticker task
per socket did the same at the cost of a task, a timer and a wake-up per
socket every few seconds, which was most of what thousands of idle sockets
cost (docs/benchmarks.md).

A connection's tick and re-check still run under its own lock, after what it
is already doing (``Connection.run_or_post``), so the rules of consumers.py
("one thing at a time per connection") hold as before.
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

if TYPE_CHECKING:
    from .consumers import CallConsumer

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
        for connection in list(self.connections):
            if connection.closing:
                continue
            await connection.run_or_post(connection.tick)
            if not connection.closing and connection.next_recheck <= now:
                due.append(connection)
        if due and (self.rechecking is None or self.rechecking.done()):
            for connection in due:
                connection.next_recheck = now + connection.limits.recheck_interval
            self.rechecking = asyncio.ensure_future(self.recheck(due))

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
