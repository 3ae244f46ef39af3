import asyncio

import pytest
from channels.exceptions import StopConsumer

from signaling.dispatch import dispatch_from


def queue_source(queue: asyncio.Queue):
    return queue.get


async def test_each_source_is_dispatched_in_order_until_a_handler_stops():
    socket: asyncio.Queue = asyncio.Queue()
    layer: asyncio.Queue = asyncio.Queue()
    seen: list[str] = []
    five = asyncio.Event()

    async def dispatch(message: dict) -> None:
        seen.append(message["n"])
        if len(seen) == 5:
            five.set()
        if message["n"] == "stop":
            raise StopConsumer

    for n in ("s1", "s2", "s3"):
        socket.put_nowait({"n": n})
    for n in ("l1", "l2"):
        layer.put_nowait({"n": n})
    run = asyncio.ensure_future(dispatch_from([socket.get, layer.get], dispatch))
    await asyncio.wait_for(five.wait(), 1)
    assert [n for n in seen if n[0] == "s"] == ["s1", "s2", "s3"]
    assert [n for n in seen if n[0] == "l"] == ["l1", "l2"]

    socket.put_nowait({"n": "stop"})
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(run, 1)
    # The other source's reader is gone: nothing takes this message any more.
    layer.put_nowait({"n": "late"})
    await asyncio.sleep(0)
    assert layer.qsize() == 1


async def test_a_failing_source_ends_the_loop_and_cancels_the_others():
    cancelled = asyncio.Event()

    async def waits_forever() -> dict:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return {}

    async def fails() -> dict:
        raise ConnectionError("layer gone")

    async def dispatch(message: dict) -> None:
        raise AssertionError("nothing to dispatch")

    with pytest.raises(ConnectionError):
        await asyncio.wait_for(dispatch_from([waits_forever, fails], dispatch), 1)
    assert cancelled.is_set()


async def test_cancelling_the_loop_cancels_every_source():
    started = asyncio.Event()
    cancelled: list[int] = []

    def source(number: int):
        async def read() -> dict:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(number)
                raise
            return {}

        return read

    async def dispatch(message: dict) -> None:
        pass

    run = asyncio.ensure_future(dispatch_from([source(1), source(2)], dispatch))
    await started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert sorted(cancelled) == [1, 2]
