"""How one socket lives in the process (signaling.connection): order, local
delivery, sends that never wait for another socket, and the bound on what may
wait for a socket that does not read."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from typing import Any

import channels
import pytest
from channels.generic.websocket import AsyncWebsocketConsumer

from signaling.connection import Connection, run_eagerly


class Wire:
    """A server's ``send``: records frames; ``stall()`` makes it wait as a
    server does when its client stops reading."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.open = asyncio.Event()
        self.open.set()

    def stall(self) -> None:
        self.open.clear()

    def resume(self) -> None:
        self.open.set()

    async def __call__(self, message: dict[str, Any]) -> None:
        await self.open.wait()
        self.frames.append(message.get("text", message.get("code", message["type"])))


class Peer(Connection):
    """A connection with one plain handler and one that waits."""

    def __init__(self, wire: Wire) -> None:
        super().__init__()
        self.base_send = wire
        self.seen: list[str] = []
        self.slow_done = asyncio.Event()
        self.gone = False

    def note(self, event: dict[str, Any]) -> None:
        self.seen.append(event["n"])
        self.transmit(event["n"])

    async def slow(self, event: dict[str, Any]) -> None:
        self.seen.append(event["n"])
        await self.slow_done.wait()

    async def too_slow(self) -> None:
        self.gone = True
        await self.close(4408)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_plain_handler_runs_at_once_in_the_senders_task():
    peer = Peer(Wire())
    peer.deliver({"type": "note", "n": "a"})
    # No await in between: nothing was queued, no task was woken.
    assert peer.seen == ["a"]
    assert peer.base_send.frames == ["a"]


async def test_messages_delivered_while_a_handler_waits_run_after_it_in_order():
    peer = Peer(Wire())
    busy = asyncio.ensure_future(peer.dispatch({"type": "slow", "n": "1"}))
    await settle()
    for n in "234":
        peer.deliver({"type": "note", "n": n})
    assert peer.seen == ["1"]  # held back: a handler is waiting
    peer.slow_done.set()
    await busy
    assert peer.seen == ["1", "2", "3", "4"]
    assert peer.base_send.frames == ["2", "3", "4"]


async def test_a_handler_that_waits_runs_under_the_lock_after_what_came_first():
    peer = Peer(Wire())
    peer.slow_done.set()
    busy = asyncio.ensure_future(peer.dispatch({"type": "slow", "n": "1"}))
    peer.deliver({"type": "slow", "n": "2"})
    peer.deliver({"type": "note", "n": "3"})
    await busy
    await settle()
    assert peer.seen == ["1", "2", "3"]


async def test_frames_for_a_socket_that_stopped_reading_wait_in_order_without_stalling_the_sender():
    wire = Wire()
    peer = Peer(wire)
    wire.stall()
    for n in "abc":
        peer.deliver({"type": "note", "n": n})  # returns at once every time
    assert wire.frames == []
    wire.resume()
    await settle()
    assert wire.frames == ["a", "b", "c"]
    assert peer.backlog is None


async def test_a_socket_that_never_reads_is_given_up_with_its_queue_bounded():
    wire = Wire()
    peer = Peer(wire)
    peer.max_queue = 10_000
    wire.stall()
    frame = "x" * 1000
    for _ in range(1000):  # a megabyte offered
        peer.deliver({"type": "note", "n": frame})
    await settle()
    assert peer.gone
    assert peer.backlog is not None
    assert sum(len(m.get("text", "")) for m in peer.backlog) <= peer.max_queue
    assert len(peer.backlog) <= 1  # only the close, behind the send that waits
    await peer.finish()


async def test_run_eagerly_finishes_a_coroutine_that_never_waits_in_the_caller():
    done = []

    async def quick() -> None:
        done.append(1)

    assert run_eagerly(quick()) is None
    assert done == [1]


async def test_run_eagerly_hands_a_coroutine_that_waits_to_a_task():
    gate = asyncio.Event()
    steps = []

    async def waits() -> str:
        steps.append("before")
        await gate.wait()
        await asyncio.sleep(0)
        steps.append("after")
        return "result"

    task = run_eagerly(waits())
    assert steps == ["before"]
    assert task is not None
    gate.set()
    assert await task == "result"
    assert steps == ["before", "after"]


async def test_run_eagerly_passes_cancellation_to_the_coroutine():
    gate = asyncio.Event()
    cleaned = []

    async def waits() -> None:
        try:
            await gate.wait()
        finally:
            cleaned.append(True)

    task = run_eagerly(waits())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert cleaned == [True]


# --- The Channels code underneath ---------------------------------------------------------

# What ``Connection`` replaces of Channels (it re-implements these), and what it
# relies on unchanged, as written against channels 4.3.2: the qualified name
# and a digest of the upstream source. A new Channels release that changes any
# of them fails here, so connection.py is re-read against the new code before
# the pin in requirements.txt moves.
REPLACED_UPSTREAM = {
    "__call__": ("AsyncConsumer.__call__", "e52238720872dbc3"),
    "dispatch": ("AsyncConsumer.dispatch", "39f34e7d4fb0f655"),
    "send": ("AsyncWebsocketConsumer.send", "52ce6c1290fea217"),
    "close": ("AsyncWebsocketConsumer.close", "c2f5b8bca1838db4"),
    "websocket_disconnect": ("AsyncWebsocketConsumer.websocket_disconnect", "10f38aa55fd51ff5"),
}
RELIED_ON_UPSTREAM = {
    "websocket_connect": ("AsyncWebsocketConsumer.websocket_connect", "8128b5f6cfc5e2f8"),
    "websocket_receive": ("AsyncWebsocketConsumer.websocket_receive", "165d159d99adfd8a"),
    "accept": ("AsyncWebsocketConsumer.accept", "7197addbce7e6b2a"),
}


def _upstream(name: str) -> tuple[str, str]:
    function = getattr(AsyncWebsocketConsumer, name)
    digest = hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
    return function.__qualname__, digest


@pytest.mark.parametrize("name", [*REPLACED_UPSTREAM, *RELIED_ON_UPSTREAM])
def test_the_channels_code_under_connection_is_the_code_it_was_written_against(name: str):
    expected = {**REPLACED_UPSTREAM, **RELIED_ON_UPSTREAM}[name]
    assert channels.__version__ == "4.3.2", "re-read connection.py against the new Channels"
    assert _upstream(name) == expected, f"Channels changed {name}: re-read connection.py"


@pytest.mark.parametrize("name", list(REPLACED_UPSTREAM))
def test_connection_replaces_what_it_says_it_replaces(name: str):
    assert getattr(Connection, name) is not getattr(AsyncWebsocketConsumer, name)
    assert getattr(Connection, name).__qualname__ == f"Connection.{name}"


@pytest.mark.parametrize("name", list(RELIED_ON_UPSTREAM))
def test_connection_keeps_what_it_relies_on(name: str):
    assert getattr(Connection, name) is getattr(AsyncWebsocketConsumer, name)
