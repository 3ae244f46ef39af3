"""Channel layers tuned for signaling traffic.

Both keep channels' semantics for ordinary consumers (per-sender order,
groups, copies of messages) and add **local delivery**: a consumer of this
process may ``attach`` a receiver to its channel, and then every message for
that channel (a direct send, a group send, or one arriving from Redis) is
handed to the receiver at once, in the sender's task: no queue, no copy, no
task woken. The receiver gets the message itself, shared by every member of
a group, and must not change it. docs/deployment.md and docs/benchmarks.md
explain the choice and show the figures.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from channels import layers
from channels.exceptions import ChannelFull
from channels_redis import pubsub
from channels_redis.utils import _wrap_close, decode_hosts

logger = logging.getLogger(__name__)

Receiver = Callable[[dict[str, Any]], None]
# Called should a message sent with ``send_soon`` fail to reach Redis.
Failed = Callable[[BaseException], None]


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    """Channels' in-memory layer with local delivery, and its expiry sweep
    done at most once a second.

    The stock layer walks every queued message of every channel and every
    group membership on each ``receive`` and ``group_send``: work proportional
    to the number of open sockets for every relayed message. With 400 sockets
    that sweep was two thirds of the server's CPU (docs/benchmarks.md).
    Expiry is a soft bound anyway; sweeping once a second only lets an
    expired message or group membership linger up to a second longer.
    """

    sweep_interval = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0
        self.receivers: dict[str, Receiver] = {}

    def attach(self, channel: str, receiver: Receiver) -> None:
        """Hand every message for ``channel`` to ``receiver`` from now on."""
        self.receivers[channel] = receiver

    async def detach(self, channel: str) -> None:
        self.receivers.pop(channel, None)
        self.channels.pop(channel, None)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        receiver = self.receivers.get(channel)
        if receiver is not None:
            receiver(message)
            return
        await super().send(channel, message)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """In member order, one at a time (the stock layer starts a task per member)."""
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            receiver = self.receivers.get(channel)
            if receiver is not None:
                receiver(message)
                continue
            try:
                await super().send(channel, message)
            except ChannelFull:
                logger.warning("signaling: channel full, dropped a group message for %s", channel)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_interval
        super()._clean_expired()


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    """channels-redis' pub/sub layer that keeps messages between two consumers
    of the same process out of Redis, with local delivery and a bounded queue
    per channel.

    A send to a channel of this process goes straight to its receiver (or
    onto its queue), and a group send reaches this process's members
    directly, then goes to Redis (tagged with this process's origin, which its
    own receiver skips) for the members elsewhere. Per-sender order holds:
    everything a sender emits to a local consumer is delivered in call order,
    and everything it emits to a remote one goes through one Redis connection
    in call order.

    A channel read through ``receive`` (a consumer without a receiver) holds at
    most ``capacity`` messages; more are dropped and logged, as channels-redis'
    core layer refuses sends to a full channel, instead of growing without
    bound behind a consumer that cannot keep up.

    When a room's participants share a process (route ``/ws/rooms/<code>/``
    by consistent hash, docs/deployment.md), relaying never touches Redis.
    """

    def __init__(self, *args: Any, capacity: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capacity = int(capacity)

    def _get_layer(self) -> LocalFirstLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            layer: LocalFirstLoopLayer = self._layers[loop]
            return layer
        except KeyError:
            layer = LocalFirstLoopLayer(
                *self._args, **self._kwargs, channel_layer=self, capacity=self.capacity
            )
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer

    def attach(self, channel: str, receiver: Receiver) -> None:
        self._get_layer().attach(channel, receiver)

    async def detach(self, channel: str) -> None:
        await self._get_layer().detach(channel)

    @property
    def receivers(self) -> dict[str, Receiver]:
        return self._get_layer().receivers

    def send_soon(self, channel: str, message: dict[str, Any], failed: Failed) -> None:
        """``send``, without waiting for Redis to take the message: in order
        with everything this process sends, and ``failed`` is called should
        it not reach Redis."""
        self._get_layer().send_soon(channel, message, failed)


ORIGIN_BYTES = 16


class LocalFirstLoopLayer(pubsub.RedisPubSubLoopLayer):
    def __init__(self, hosts: Any = None, *args: Any, capacity: int = 100, **kwargs: Any) -> None:
        super().__init__(hosts, *args, **kwargs)
        self.origin = uuid.uuid4().bytes
        self.capacity = capacity
        self.receivers: dict[str, Receiver] = {}
        self._shards = [OriginAwareShard(host, self) for host in decode_hosts(hosts)]

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = asyncio.Queue(maxsize=self.capacity)
        await self._get_shard(channel).subscribe(channel)

    def attach(self, channel: str, receiver: Receiver) -> None:
        self.receivers[channel] = receiver

    async def detach(self, channel: str) -> None:
        """Forget the channel (what ``receive`` does when it is cancelled)."""
        self.receivers.pop(channel, None)
        if self.channels.pop(channel, None) is not None:
            await self._get_shard(channel).unsubscribe(channel)

    def deliver(self, channel: str, message: dict[str, Any] | None, payload: bytes) -> None:
        """To a local channel: its receiver, else its queue (dropped when full)."""
        receiver = self.receivers.get(channel)
        if receiver is not None:
            receiver(message if message is not None else self.channel_layer.deserialize(payload))
            return
        queue = self.channels.get(channel)
        if queue is None:
            return
        try:
            queue.put_nowait(payload)
        except asyncio.QueueFull:
            logger.warning("signaling: channel full, dropped a message for %s", channel)

    def _send_here(self, channel: str, message: dict[str, Any]) -> bool:
        """Deliver ``message`` when ``channel`` is one of this process's."""
        if channel not in self.channels:
            return False
        receiver = self.receivers.get(channel)
        if receiver is not None:
            receiver(message)
        else:
            self.deliver(channel, None, self.channel_layer.serialize(message))
        return True

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if not self._send_here(channel, message):
            await self._get_shard(channel).publish(channel, self.channel_layer.serialize(message))

    def send_soon(self, channel: str, message: dict[str, Any], failed: Failed) -> None:
        if not self._send_here(channel, message):
            self._get_shard(channel).publish_soon(
                channel, self.channel_layer.serialize(message), failed
            )

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        group_channel = self._get_group_channel_name(group)
        payload = self.channel_layer.serialize(message)
        for channel in list(self.groups.get(group_channel, ())):
            self.deliver(channel, message, payload)
        await self._get_shard(group_channel).publish(group_channel, self.origin + payload)


class OriginAwareShard(pubsub.RedisSingleShardConnection):
    """Publishes in batches, and delivers group messages from other processes
    only: this process's own were delivered locally when they were sent.

    The stock connection publishes one message per round trip under a lock,
    so under load every sender queues behind everyone else's round trip.
    Here a publish joins the batch being collected and waits for it; one
    task sends each batch as a single pipeline, in arrival order, while the
    next batch collects (group commit). Order, completion and errors are
    what each caller would have seen publishing alone. ``publish_soon``
    joins the batch without waiting (a relay: the sender's socket goes on
    reading), and hears of a failure through its ``failed``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch: list[tuple[str, bytes, Failed | None]] = []
        self._batch_sent: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        await asyncio.shield(self._join_batch(channel, message, None))

    def publish_soon(self, channel: str, message: bytes, failed: Failed) -> None:
        self._join_batch(channel, message, failed)

    def _join_batch(
        self, channel: str, message: bytes, failed: Failed | None
    ) -> asyncio.Future[None]:
        if self._batch_sent is None:
            self._batch_sent = asyncio.get_running_loop().create_future()
        self._batch.append((channel, message, failed))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_batches())
        return self._batch_sent

    async def _send_batches(self) -> None:
        while self._batch:
            batch, sent = self._batch, self._batch_sent
            self._batch, self._batch_sent = [], None
            assert sent is not None  # noqa: S101  (set together with a non-empty batch)
            try:
                async with self._lock:
                    self._ensure_redis()
                    pipe = self._redis.pipeline(transaction=False)
                    for channel, message, _failed in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except Exception as exc:
                sent.set_exception(exc)
                # Mark it retrieved: its callers may all have gone away.
                sent.exception()
                for _channel, _message, failed in batch:
                    if failed is not None:
                        try:
                            failed(exc)
                        except Exception:
                            logger.exception("signaling: reporting a failed publish failed")
            else:
                sent.set_result(None)

    def _receive_message(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels:
            layer.deliver(name, None, message["data"])
            return
        members = layer.groups.get(name)
        if not members:
            return
        data = message["data"]
        if data[:ORIGIN_BYTES] == layer.origin:
            return
        payload = data[ORIGIN_BYTES:]
        # Decoded once for every local receiver of the group.
        decoded = layer.channel_layer.deserialize(payload) if layer.receivers else None
        for channel in list(members):
            layer.deliver(channel, decoded, payload)
