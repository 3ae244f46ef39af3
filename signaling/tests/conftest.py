"""Fixtures for the signaling tests: people, a room, and sockets through the
real ASGI stack (origin check, session cookie, auth middleware, routing)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from accounts.models import User
from meet.asgi import application
from rooms import services
from rooms.models import Membership, Room
from signaling import access, presence
from signaling.access import closes_connections
from tests.sessions import session_for

ORIGIN = b"http://testserver"
# Generous: every wait ends as soon as the awaited frame arrives.
WAIT = 3.0


@pytest.fixture(autouse=True)
def fresh_signaling() -> Iterator[None]:
    """A new channel layer (its queues belong to one event loop) and empty
    in-process presence for every test."""
    channel_layers.backends.clear()
    presence.get_presence()  # memory unless the test configured Redis
    presence._memory.clear()
    yield
    channel_layers.backends.clear()
    presence._memory.clear()
    # The reader threads keep their connections; the test database is flushed
    # or dropped after this.
    access.close_reader_connections()


@dataclass
class Person:
    user: User
    session: str

    @property
    def pk(self) -> int:
        return self.user.pk


@dataclass
class World:
    """A 4-seat room: ``host`` (its owner) and members ``alex``, ``sam``, ``jo``;
    ``eve`` is signed in but not a member."""

    room: Room
    host: Person
    alex: Person
    sam: Person
    jo: Person
    eve: Person

    @property
    def slug(self) -> str:
        return self.room.slug


@pytest.fixture
def world(transactional_db: None) -> World:
    def person(name: str, display: str = "") -> Person:
        user = User.objects.create_user(name, password="pw", display_name=display)
        return Person(user, session_for(user))

    host = person("minji", "민지")
    room = services.room_create(owner=host.user, name="주간 회의", max_participants=4)
    people = {name: person(name) for name in ("alex", "sam", "jo", "eve")}
    for name in ("alex", "sam", "jo"):
        Membership.objects.create(room=room, user=people[name].user)
    return World(room=room, host=host, **people)


class Closed(AssertionError):
    def __init__(self, code: int) -> None:
        super().__init__(f"socket closed with {code}")
        self.code = code


class Socket:
    """One browser's signaling socket, driven by a test."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.welcome: dict[str, Any] = {}

    @property
    def peer(self) -> str:
        return str(self.welcome["peer"])

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "bytes": data})

    async def recv(self, within: float = WAIT) -> dict[str, Any]:
        """The next frame; raises ``Closed`` if the server closed instead."""
        output = await self.communicator.receive_output(within)
        if output["type"] == "websocket.close":
            code = output.get("code", 1000)
            assert type(code) is int, "daphne (autobahn) accepts only a plain int"
            raise Closed(code)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def expect(self, kind: str, within: float = WAIT, **fields: Any) -> dict[str, Any]:
        """The next frame, which must be of ``kind`` and carry ``fields``."""
        frame = await self.recv(within)
        assert frame["type"] == kind, frame
        for key, value in fields.items():
            assert frame.get(key) == value, (key, frame)
        return frame

    async def closed(self, within: float = WAIT) -> int:
        """The close code the server sends next (no frame may come first)."""
        output = await self.communicator.receive_output(within)
        assert output["type"] == "websocket.close", output
        code = output.get("code", 1000)
        assert type(code) is int, "daphne (autobahn) accepts only a plain int"
        return code

    async def closes(self, within: float = WAIT) -> int:
        """The close code, skipping whatever frames come before it."""
        while True:
            try:
                await self.recv(within)
            except Closed as closed:
                return closed.code

    async def join(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "join", **fields})
        self.welcome = await self.expect("welcome")
        return self.welcome

    async def nothing(self) -> bool:
        return await self.communicator.receive_nothing(timeout=0.05)

    async def disconnect(self, code: int = 1000) -> None:
        await self.communicator.disconnect(code=code)


Opener = Callable[..., Any]


@pytest.fixture
async def open_socket() -> AsyncIterator[Opener]:
    """``await open_socket(person_or_None, slug)``: an accepted socket (the
    server accepts everyone, then closes refusals with a 4xxx code)."""
    sockets: list[Socket] = []

    async def open_(
        person: Person | None, slug: str, *, origin: bytes = ORIGIN, session: str | None = None
    ) -> Socket:
        headers = [(b"origin", origin), (b"host", b"testserver")]
        key = session or (person.session if person else None)
        if key:
            headers.append((b"cookie", f"sessionid={key}".encode()))
        communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
        socket = Socket(communicator)
        sockets.append(socket)
        connected, _ = await communicator.connect(timeout=WAIT)
        assert connected, "the server accepts every handshake from an allowed origin"
        return socket

    yield open_
    for socket in sockets:
        # Already finished or timed out: nothing left to clean. A cancelled
        # application re-raises CancelledError, a BaseException that would
        # skip the database flush after this test and fail every later one.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await socket.disconnect()
    # The database thread runs one job at a time: once this no-op is through,
    # no re-check a consumer started is still holding a connection.
    await database_sync_to_async(lambda: None)()


def fast_timers(settings: Any, **overrides: float) -> None:
    """Shrink the signaling timers for tests about time."""
    settings.SIGNALING = {
        **settings.SIGNALING,
        "TICK": 0.05,
        "HEARTBEAT_TIMEOUT": 0.5,
        "PRESENCE_TTL": 0.3,
        "RESUME_GRACE": 0.3,
        **overrides,
    }


async def joined(open_socket: Opener, person: Person | None, slug: str, **fields: Any) -> Socket:
    """A socket opened by ``person`` that has joined (its ``welcome`` read)."""
    socket = await open_socket(person, slug)
    await socket.join(**fields)
    return socket


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ORM code from an async test (closing its connection, as the consumer does)."""
    return await database_sync_to_async(closes_connections(function))(*args, **kwargs)
