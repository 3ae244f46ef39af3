"""daphne's input for an application (what it puts, what the application
reads with ``receive``), lighter than the ``asyncio.Queue`` daphne makes for
every connection: that is four deques (760 bytes each, even empty) and an
Event, for a queue that is nearly always empty. ``transport.install`` makes
daphne's ``Server.create_application`` this module's."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Inbox | None:
    """daphne's ``Server.create_application`` (installed as that method), with
    an ``Inbox`` for the application's input instead of an ``asyncio.Queue``."""
    assert "application_instance" not in self.connections[protocol]  # noqa: S101  (daphne's)
    inbox = Inbox(self, protocol)
    scope.setdefault("asgi", {"version": "3.0"})
    instance = self.application(
        scope=scope, receive=inbox.get, send=functools.partial(self.handle_reply, protocol)
    )
    if protocol not in self.connections:
        return None
    self.connections[protocol]["application_instance"] = asyncio.ensure_future(instance)
    return inbox


class Inbox:
    """First in, first out: ``put_nowait`` (daphne's protocol), ``get`` (the
    application's ``receive``) and ``qsize``, as an unbounded
    ``asyncio.Queue`` has them. One reader waits in a slot; should more wait
    at once, a put wakes them all and one of them takes the item.

    ``shortcut``, when the application sets one, is offered each item that
    arrives while nothing waits before it: if it handles the item at once
    (returns True), the item is not queued and the application's task is not
    woken for it (signaling.connection, ``receive_now``). ``write_text`` is
    the way out, for text frames: what the application's ``send`` would do
    with one, called directly."""

    __slots__ = ("head", "items", "loop", "others", "protocol", "server", "shortcut", "waiter")

    def __init__(self, server: Any = None, protocol: Any = None) -> None:
        # daphne's server and the connection's protocol (write_text), when
        # daphne made this inbox.
        self.server = server
        self.protocol = protocol
        # Made in the loop it serves (asyncio.get_running_loop() costs a
        # getpid system call in every get).
        self.loop = asyncio.get_running_loop()
        # Queued items are items[head:]: taking one is O(1), and the list is
        # emptied (its storage freed) whenever the last one is taken.
        self.items: list[Any] = []
        self.head = 0
        self.waiter: asyncio.Future[None] | None = None
        self.others: list[asyncio.Future[None]] | None = None
        self.shortcut: Callable[[dict[str, Any]], bool] | None = None

    def put_nowait(self, item: dict[str, Any]) -> None:
        shortcut = self.shortcut
        if shortcut is not None and not self.items:  # nothing queued before it
            try:
                if shortcut(item):
                    return
            except Exception:
                # As for a handler that fails on the usual path: logged, and
                # the connection lives on (the item is not handled twice).
                logger.exception("signaling: handling %s at once failed", item.get("type"))
                return
        self.items.append(item)
        if self.waiter is not None:
            _wake(self.waiter)
            self.waiter = None
        if self.others is not None:
            for waiter in self.others:
                _wake(waiter)
            self.others = None

    def write_text(self, text: str) -> None:
        """What the application's ``send`` does for ``{"type": "websocket.send",
        "text": text}`` (daphne's ``Server.handle_reply`` and its protocol's),
        without the coroutine and the message: nothing for a connection daphne
        has let go of or seen disconnect, a ``ValueError`` before the socket
        is accepted, else the protocol's ``serverSend``."""
        protocol = self.protocol
        details = self.server.connections.get(protocol)
        if details is None or details.get("disconnected"):
            return
        if protocol.state == protocol.STATE_CONNECTING:
            raise ValueError("Socket has not been accepted, so cannot send over it")
        if text:
            protocol.serverSend(text, False)

    def qsize(self) -> int:
        return len(self.items) - self.head

    async def get(self) -> dict[str, Any]:
        while not self.items:
            waiter = self.loop.create_future()
            if self.waiter is None:
                self.waiter = waiter
            elif self.others is None:
                self.others = [waiter]
            else:
                self.others.append(waiter)
            try:
                await waiter
            finally:
                if self.waiter is waiter:
                    self.waiter = None
                elif self.others is not None and waiter in self.others:
                    self.others.remove(waiter)
        items = self.items
        item = items[self.head]
        self.head += 1
        if self.head == len(items):
            items.clear()
            self.head = 0
        else:
            items[self.head - 1] = None
        return item  # type: ignore[no-any-return]


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
