"""Feeding a consumer its messages, with less work per message than Channels.

``channels.utils.await_many_dispatch`` waits on the WebSocket and the channel
layer with a fresh task and an ``asyncio.wait`` for every message; on the
relay path (one WebSocket message in, one channel-layer message out) that
bookkeeping was a large share of the server's time per message
(docs/benchmarks.md). Here each source gets one task for the consumer's whole
life, which reads a message and dispatches it, then reads the next.

Messages from one source are dispatched in order. Messages from different
sources may be dispatched concurrently, so ``dispatch`` must serialize itself
(``CallConsumer.dispatch`` runs under the connection's lock), as Channels'
own loop would have done by awaiting one dispatch at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Source = Callable[[], Awaitable[dict[str, Any]]]
Dispatch = Callable[[dict[str, Any]], Awaitable[None]]


async def _pump(source: Source, dispatch: Dispatch) -> None:
    while True:
        await dispatch(await source())


async def dispatch_from(sources: Sequence[Source], dispatch: Dispatch) -> None:
    """Dispatch every message of every source until one of them raises (a
    handler's ``StopConsumer`` included, which is re-raised); then the other
    sources are cancelled."""
    tasks = [asyncio.ensure_future(_pump(source, dispatch)) for source in sources]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
