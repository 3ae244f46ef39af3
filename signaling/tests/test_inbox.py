"""signaling.inbox: what daphne's protocol puts reaches the application in order,
and what the application writes leaves as daphne would send it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from daphne import ws_protocol
from daphne.server import Server

from signaling.inbox import Inbox


async def test_items_come_out_in_the_order_they_were_put():
    inbox = Inbox()
    for n in range(3):
        inbox.put_nowait({"n": n})
    assert inbox.qsize() == 3
    assert [(await inbox.get())["n"] for _ in range(3)] == [0, 1, 2]
    assert inbox.qsize() == 0


async def test_puts_and_gets_interleaved_keep_the_order():
    inbox = Inbox()
    taken = []
    for n in range(100):
        inbox.put_nowait({"n": n})
        if n % 3 == 2:
            taken.append((await inbox.get())["n"])
    while inbox.qsize():
        taken.append((await inbox.get())["n"])
    assert taken == list(range(100))
    assert inbox.items == []  # emptied once the last is taken


async def test_a_waiting_reader_is_woken_by_a_put():
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait({"type": "websocket.connect"})
    assert await reader == {"type": "websocket.connect"}


async def test_several_waiting_readers_each_get_one_item():
    inbox = Inbox()
    readers = [asyncio.ensure_future(inbox.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for n in range(3):
        inbox.put_nowait({"n": n})
    assert sorted(item["n"] for item in await asyncio.gather(*readers)) == [0, 1, 2]


async def test_a_shortcut_takes_what_it_handles_and_only_when_nothing_waits():
    inbox = Inbox()
    handled = []

    def shortcut(item):
        if item.get("fast"):
            handled.append(item["n"])
            return True
        return False

    inbox.shortcut = shortcut
    inbox.put_nowait({"n": 1, "fast": True})  # handled at once
    inbox.put_nowait({"n": 2})  # declined: queued
    inbox.put_nowait({"n": 3, "fast": True})  # behind 2: queued, not offered
    assert handled == [1]
    assert [(await inbox.get())["n"] for _ in range(2)] == [2, 3]
    inbox.put_nowait({"n": 4, "fast": True})  # nothing waits again: handled
    assert handled == [1, 4]
    assert inbox.qsize() == 0


async def test_a_cancelled_reader_loses_nothing():
    inbox = Inbox()
    cancelled = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    inbox.put_nowait({"n": 1})
    assert await asyncio.wait_for(inbox.get(), 1) == {"n": 1}


class _Protocol:
    """What daphne's ``handle_reply`` touches of its WebSocket protocol."""

    STATE_CONNECTING = ws_protocol.WebSocketProtocol.STATE_CONNECTING
    STATE_OPEN = ws_protocol.WebSocketProtocol.STATE_OPEN
    handle_reply = ws_protocol.WebSocketProtocol.handle_reply

    def __init__(self, state: int) -> None:
        self.state = state
        self.sent: list[tuple[str, bool]] = []

    def serverSend(self, content: str, binary: bool) -> None:  # noqa: N802  (daphne's)
        self.sent.append((content, binary))


@pytest.mark.parametrize(
    ("state", "details", "text"),
    [
        ("open", {}, '{"type":"pong"}'),
        ("open", {}, ""),
        ("connecting", {}, "early"),
        ("open", {"disconnected": 1.0}, "late"),
        ("open", None, "let go of"),
    ],
)
async def test_write_text_does_what_daphnes_send_does_with_a_text_frame(
    state: str, details: dict | None, text: str
):
    outcomes: list[tuple[str, object]] = []
    for way in ("daphne", "write_text"):
        protocol = _Protocol(getattr(_Protocol, f"STATE_{state.upper()}"))
        server = SimpleNamespace(
            connections={} if details is None else {protocol: dict(details)},
            check_headers_type=Server.check_headers_type,
        )
        try:
            if way == "daphne":
                message = {"type": "websocket.send", "text": text}
                await Server.handle_reply(server, protocol, message)
            else:
                Inbox(server, protocol).write_text(text)
        except ValueError as exc:
            outcomes.append(("ValueError", str(exc)))
        else:
            outcomes.append(("sent", protocol.sent))
    assert outcomes[0] == outcomes[1]
