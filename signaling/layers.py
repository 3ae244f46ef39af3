"""Channel layers tuned for signaling traffic.

Both keep channels' semantics (per-sender order, groups, copies of messages)
and remove work from the relay path; docs/deployment.md and
docs/benchmarks.md explain the choice and show the figures.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from channels import layers
from channels_redis import pubsub
from channels_redis.utils import _wrap_close, decode_hosts


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    """Channels' in-memory layer, with its expiry sweep done at most once a second.

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

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_interval
        super()._clean_expired()


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    """channels-redis' pub/sub layer that keeps messages between two consumers
    of the same process out of Redis.

    A send to a channel of this process goes straight onto its queue, and a
    group send reaches this process's members directly, then goes to Redis
    (tagged with this process's origin, which its own receiver skips) for the
    members elsewhere. Per-sender order holds: everything a sender emits to a
    local consumer is queued in call order, and everything it emits to a
    remote one goes through one Redis connection in call order.

    When a room's participants share a process (route ``/ws/rooms/<code>/``
    by consistent hash, docs/deployment.md), relaying never touches Redis.
    """

    def _get_layer(self) -> LocalFirstLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = LocalFirstLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer


ORIGIN_BYTES = 16


class LocalFirstLoopLayer(pubsub.RedisPubSubLoopLayer):
    def __init__(self, hosts: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(hosts, *args, **kwargs)
        self.origin = uuid.uuid4().bytes
        self._shards = [OriginAwareShard(host, self) for host in decode_hosts(hosts)]

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        payload = self.channel_layer.serialize(message)
        queue = self.channels.get(channel)
        if queue is not None:
            queue.put_nowait(payload)
            return
        await self._get_shard(channel).publish(channel, payload)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        group_channel = self._get_group_channel_name(group)
        payload = self.channel_layer.serialize(message)
        for channel in self.groups.get(group_channel, ()):
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(payload)
        await self._get_shard(group_channel).publish(group_channel, self.origin + payload)


class OriginAwareShard(pubsub.RedisSingleShardConnection):
    """Publishes in batches, and delivers group messages from other processes
    only: this process's own were delivered locally when they were sent.

    The stock connection publishes one message per round trip under a lock,
    so under load every sender queues behind everyone else's round trip.
    Here a publish joins the batch being collected and waits for it; one
    task sends each batch as a single pipeline, in arrival order, while the
    next batch collects (group commit). Order, completion and errors are
    what each caller would have seen publishing alone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch: list[tuple[str, bytes]] = []
        self._batch_sent: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        if self._batch_sent is None:
            self._batch_sent = asyncio.get_running_loop().create_future()
        self._batch.append((channel, message))
        sent = self._batch_sent
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_batches())
        await asyncio.shield(sent)

    async def _send_batches(self) -> None:
        while self._batch:
            batch, sent = self._batch, self._batch_sent
            self._batch, self._batch_sent = [], None
            assert sent is not None  # noqa: S101  (set together with a non-empty batch)
            try:
                async with self._lock:
                    self._ensure_redis()
                    pipe = self._redis.pipeline(transaction=False)
                    for channel, message in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except Exception as exc:
                sent.set_exception(exc)
                # Mark it retrieved: its callers may all have gone away.
                sent.exception()
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
            layer.channels[name].put_nowait(message["data"])
            return
        members = layer.groups.get(name)
        if not members:
            return
        data = message["data"]
        if data[:ORIGIN_BYTES] == layer.origin:
            return
        payload = data[ORIGIN_BYTES:]
        for channel in members:
            queue = layer.channels.get(channel)
            if queue is not None:
                queue.put_nowait(payload)
