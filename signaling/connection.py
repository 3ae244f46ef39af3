"""The Channels plumbing under the call consumer: what it overrides of
``AsyncWebsocketConsumer`` and why.

``CallConsumer`` (consumers.py) is the protocol; this class is how one socket
lives in the process:

- **One task per socket.** Channels' ``__call__`` reads the WebSocket and the
  channel layer with a fresh task and an ``asyncio.wait`` per message. Here
  the WebSocket is read by the consumer's own task, and the channel layer does
  not need reading at all when it supports local delivery
  (``signaling.layers``): it hands each message for this socket's channel to
  ``deliver`` in the sender's task. Only a layer without it (channels-redis'
  core layer) gets one reader task (``signaling.dispatch``).
- **One thing at a time.** Handlers that await (join, leave, the periodic
  tick) run under the connection's lock. A message delivered while the lock
  is held, or while earlier ones still wait, joins the connection's inbox and
  runs, in order, when the lock is released. Otherwise a plain (``def``)
  handler runs at once in the deliverer's task: it only changes this
  connection's state and writes a frame, so nothing can interleave with it.
  Per-sender order therefore holds for everything, direct and group messages
  alike, which the protocol needs (a newcomer's ``peer.joined`` before its
  offer).
- **Heartbeats and relays handled as they arrive.** Under daphne the
  socket's input is a ``signaling.inbox.Inbox``, and a message that arrives
  while this connection is idle (no handler running, nothing queued before
  it) is offered to ``receive_now`` in the transport's read callback; the
  call consumer answers a ``ping`` there and then, and hands a relay to a
  peer in this process to that peer (to one in another, it hands it to the
  Redis layer's ``send_soon``), without waking its task (heartbeats are
  most of what an idle call costs, relays most of what a busy one does).
  Anything else, or anything arriving while the connection is busy, takes
  the usual path, so order holds.
- **Sends never wait for another socket.** ``transmit`` starts the server's
  ``send`` and, when the server makes it wait (the client is not reading and
  the socket's buffer is full), keeps later frames in the connection's
  backlog, in order, instead of stalling whoever is sending to it. More than
  ``MAX_QUEUE`` bytes waiting in the backlog or the inbox closes the
  connection (``too_slow``): memory stays bounded and the rest of the room is
  unaffected.
- No ``close_old_connections`` hop to a thread before each message and at
  disconnect: the consumer's database work happens in ``access`` functions
  that close their connections themselves.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

from .dispatch import dispatch_from
from .inbox import Inbox

logger = logging.getLogger(__name__)

Action = Callable[[], Awaitable[None]]
# What a queued event or frame counts against MAX_QUEUE besides its text.
ITEM_OVERHEAD = 200


class _Continue:
    """Awaitable that carries on a coroutine which already yielded ``first``
    to whoever ran its first step (see ``run_eagerly``)."""

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        while True:
            try:
                received = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and the like go to the coroutine
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(received)
                except StopIteration as stop:
                    return stop.value


async def _finish(coro: Coroutine[Any, Any, Any], first: Any) -> Any:
    return await _Continue(coro, first)


def run_eagerly(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
    """Run ``coro`` now, in the caller, up to its first suspension (Python
    3.12's eager tasks, for one coroutine). ``None`` if it finished without
    suspending; else a task that finishes it. Exceptions raised before the
    first suspension propagate."""
    try:
        first = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_finish(coro, first))


def _dropped(exc: Exception) -> None:
    # A socket that vanished a moment ago makes the server raise (daphne:
    # autobahn's Disconnected); the websocket.disconnect that follows cleans up.
    logger.debug("signaling: dropped a frame for a closed socket (%s)", type(exc).__name__)


class Connection(AsyncWebsocketConsumer):
    """One WebSocket: its own task, an inbox for local deliveries, a backlog
    for a socket that cannot take more yet."""

    # Slots for what this class sets (and the four attributes of Channels'
    # that our own ``__call__`` sets): the consumer's attributes together are
    # more than a shared-key dict holds (30), so without them every socket
    # carries a dict of its own of about 2 KiB. Only what Channels' classes
    # set (``groups``) is left in the instance's ``__dict__``.
    __slots__ = (
        "backlog",
        "backlog_bytes",
        "base_send",
        "channel_layer",
        "channel_name",
        "drainer",
        "inbox",
        "inbox_bytes",
        "lock",
        "max_queue",
        "overflowed",
        "receivers",
        "scope",
        "send_soon",
        "sending",
        "source",
        "write_text",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = asyncio.Lock()
        # Made when something has to wait its turn, dropped once drained: an
        # empty deque is 760 bytes, and an idle socket's inbox stays empty.
        self.inbox: deque[dict[str, Any] | Action] | None = None
        self.inbox_bytes = 0
        self.backlog_bytes = 0
        self.backlog: deque[dict[str, Any]] | None = None
        self.sending: asyncio.Task[Any] | None = None
        self.drainer: asyncio.Task[None] | None = None
        self.overflowed = False
        # The layer's local receivers (channel name -> deliver), when it has them.
        self.receivers: dict[str, Callable[[dict[str, Any]], None]] | None = None
        # The layer's send without waiting (channel, message, failed), when it has one.
        self.send_soon: Callable[..., None] | None = None
        self.max_queue = 1 << 20
        # daphne's input for us (signaling.inbox), while it offers us messages,
        # and its way out for text frames.
        self.source: Inbox | None = None
        self.write_text: Callable[[str], None] | None = None

    # --- Channels' entry points -----------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        self.base_send = send
        source = getattr(receive, "__self__", None)
        if isinstance(source, Inbox):
            self.source = source
            source.shortcut = self.receive_now
            if source.protocol is not None:
                self.write_text = source.write_text
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        layer = self.channel_layer
        try:
            if layer is None:
                await self._pump(receive)
                return
            self.channel_name = await layer.new_channel()
            attach = getattr(layer, "attach", None)
            if attach is not None:
                attach(self.channel_name, self.deliver)
                self.receivers = layer.receivers
                self.send_soon = getattr(layer, "send_soon", None)
                await self._pump(receive)
            else:
                reader = functools.partial(layer.receive, self.channel_name)
                await dispatch_from([receive, reader], self.dispatch)
        except StopConsumer:
            pass
        finally:
            await self.finish()

    async def _pump(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        while True:
            await self.dispatch(await receive())

    async def finish(self) -> None:
        """However the consumer ends (even cancelled by the server), nothing it
        started outlives it."""
        self.overflowed = True  # deliver nothing more
        self.inbox = None
        if self.source is not None:
            self.source.shortcut = None
            self.source = None
        self.write_text = None
        started = [
            task
            for task in (self.drainer, self.sending)
            if task is not None and task is not asyncio.current_task()
        ]
        for task in started:
            task.cancel()
        await asyncio.gather(*started, return_exceptions=True)
        if self.receivers is not None:
            try:
                await self.channel_layer.detach(self.channel_name)
            except Exception:
                logger.exception("signaling: detaching %s failed", self.channel_name)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Channels' own, without the thread hop to close database connections."""
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Run one handler at a time, under the connection's lock; then whatever
        was delivered meanwhile. A failing handler is logged and the connection
        lives on."""
        handler = self.handler_for(message["type"])
        if handler is None:
            logger.warning("signaling: no handler for %r", message["type"])
            return
        await self.run_locked(functools.partial(handler, message))

    async def run_locked(self, action: Callable[[], Any]) -> None:
        async with self.lock:
            try:
                result = action()
                if inspect.isawaitable(result):
                    await result
            except StopConsumer:
                raise
            except Exception:
                logger.exception("signaling: handling %r failed", action)
            await self._drain()

    def receive_now(self, message: dict[str, Any]) -> bool:
        """A message from the browser, offered as it arrives when nothing is
        queued before it (signaling.inbox): True if it was handled at once,
        in the transport's read callback; False sends it the usual way
        (dispatch, in this connection's task). Handling at once is only
        right when nothing runs or waits here (``idle``), so that messages
        stay in order."""
        return False

    @property
    def idle(self) -> bool:
        """No handler running and nothing delivered waiting its turn."""
        return not self.lock.locked() and not self.inbox

    def handler_for(self, kind: str) -> Callable[[dict[str, Any]], Any] | None:
        name = kind.replace(".", "_")
        return None if name.startswith("_") else getattr(self, name, None)

    # --- Local delivery ---------------------------------------------------------------

    def deliver(self, event: dict[str, Any]) -> None:
        """A channel-layer message for this socket, in the sender's task."""
        if self.overflowed:
            return
        if self.lock.locked() or self.inbox:
            self._enqueue(event, len(event.get("text", "")))
            return
        handler = self.handler_for(event["type"])
        if handler is None:
            logger.warning("signaling: no handler for %r", event["type"])
            return
        if _is_async(handler):
            self._enqueue(event, 0)
            return
        try:
            handler(event)
        except Exception:
            logger.exception("signaling: handling %s failed", event["type"])

    def post(self, action: Action) -> None:
        """Run ``action`` under the lock, after everything queued before it."""
        if not self.overflowed:
            self._enqueue(action, 0)

    async def run_or_post(self, action: Action) -> None:
        """Run ``action`` now, in the caller's task, if the connection is idle;
        else queue it (the periodic sweep uses this)."""
        if self.lock.locked() or self.inbox:
            self.post(action)
            return
        await self.run_locked(action)

    def _enqueue(self, item: dict[str, Any] | Action, size: int) -> None:
        self.inbox_bytes += size + ITEM_OVERHEAD
        if self.inbox_bytes > self.max_queue:
            self.overflow("inbox")
            return
        if self.inbox is None:
            self.inbox = deque()
        self.inbox.append(item)
        self._ensure_drainer()

    def _ensure_drainer(self) -> None:
        # Whoever holds the lock drains the inbox when it lets go; this task
        # makes sure of it even if that holder is gone (and is the one that
        # runs the inbox when nobody holds the lock).
        if self.drainer is None or self.drainer.done():
            self.drainer = asyncio.ensure_future(self.run_locked(_nothing))

    async def _drain(self) -> None:
        while self.inbox:
            item = self.inbox.popleft()
            try:
                if callable(item):
                    await item()
                    continue
                self.inbox_bytes -= len(item.get("text", "")) + ITEM_OVERHEAD
                handler = self.handler_for(item["type"])
                result = handler(item) if handler is not None else None
                if inspect.isawaitable(result):
                    await result
            except StopConsumer:
                raise
            except Exception:
                logger.exception("signaling: handling a queued message failed")
        self.inbox = None
        self.inbox_bytes = 0

    # --- Sending ------------------------------------------------------------------------

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send to the browser (in order with everything ``transmit`` queued)."""
        if text_data is not None:
            self.transmit(text_data)
        elif bytes_data is not None:
            self._send_or_queue({"type": "websocket.send", "bytes": bytes_data}, len(bytes_data))
        if close:
            await self.close(close)

    def transmit(self, text: str) -> None:
        """Write a frame now, or queue it behind a write the server made wait.
        Under daphne, with nothing queued, it is written directly
        (``Inbox.write_text``): daphne's ``send`` never makes a write wait."""
        write = self.write_text
        if write is None or self.backlog is not None:
            self._send_or_queue({"type": "websocket.send", "text": text}, len(text))
            return
        try:
            write(text)
        except Exception as exc:
            _dropped(exc)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close with ``code`` (after the frames already queued); a socket that
        is already gone is left alone."""
        message: dict[str, Any] = {"type": "websocket.close"}
        if code is not None and code is not True:
            message["code"] = int(code)  # autobahn rejects int subclasses such as IntEnum
        if reason:
            message["reason"] = reason
        if self.backlog is not None:
            self.backlog.append(message)
            return
        self._start(message)

    def _send_or_queue(self, message: dict[str, Any], size: int) -> None:
        backlog = self.backlog
        if backlog is None:
            self._start(message)
            return
        if self.overflowed:
            return
        self.backlog_bytes += size + ITEM_OVERHEAD
        if self.backlog_bytes > self.max_queue:
            self.overflow("backlog")
            return
        backlog.append(message)

    def _start(self, message: dict[str, Any]) -> None:
        try:
            pending = run_eagerly(self.base_send(message))
        except Exception as exc:
            _dropped(exc)
            return
        if pending is not None:
            self.backlog = self.backlog if self.backlog is not None else deque()
            self.sending = pending
            pending.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[Any]) -> None:
        self.sending = None
        if not task.cancelled() and task.exception() is not None:
            logger.debug("signaling: a frame for a closed socket was dropped")
        backlog = self.backlog
        while backlog:
            message = backlog.popleft()
            self.backlog_bytes -= ITEM_OVERHEAD + len(message.get("text", ""))
            self._start(message)
            if self.sending is not None:
                return
        self.backlog = None
        self.backlog_bytes = 0

    def overflow(self, where: str) -> None:
        """More than ``max_queue`` bytes wait for this socket: give up on it."""
        if self.overflowed:
            return
        self.overflowed = True
        logger.warning("signaling: a socket fell behind (%s over %d bytes)", where, self.max_queue)
        if self.backlog is not None:
            self.backlog.clear()
        self.inbox = deque([self.too_slow])
        self._ensure_drainer()

    async def too_slow(self) -> None:
        """Close a socket that cannot keep up (the consumer says how)."""
        await self.close(1008)


async def _nothing() -> None:
    return None


@functools.cache
def _is_async_function(function: Any) -> bool:
    return inspect.iscoroutinefunction(function)


def _is_async(handler: Callable[..., Any]) -> bool:
    return _is_async_function(getattr(handler, "__func__", handler))
