"""Real daphne processes sharing a private Redis and the test database, and a
small WebSocket client that behaves like the browser (session cookie, Origin,
pings at the interval ``welcome`` asks for)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from accounts.models import User
from meet.settings import channel_layers_for
from rooms import services
from rooms.models import Membership, Room
from tests.servers import DaphneServer, RedisServer, database_url_for_subprocess
from tests.sessions import session_for

LAYERS = ["core", "pubsub"]
# Small timers so expiry is observable within a test (seconds).
TIMERS = {
    "SIGNALING_TICK": "0.2",
    "SIGNALING_PRESENCE_TTL": "1",
    "SIGNALING_HEARTBEAT_INTERVAL": "1",
    "SIGNALING_HEARTBEAT_TIMEOUT": "5",
    # A lost socket's seat is held this long for its resume token.
    "SIGNALING_RESUME_GRACE": "3",
}
WAIT = 10.0


def server_env(redis_url: str, layer: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER": layer,
        "LOG_LEVEL": "INFO",
        **TIMERS,
        **extra,
    }


@pytest.fixture(scope="module", params=LAYERS)
def layer_servers(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    redis_server: RedisServer,
    artifacts_dir: Path,
) -> Iterator[tuple[str, DaphneServer, DaphneServer]]:
    """Two daphne processes per channel layer, shared by a module's tests (each
    test still gets an empty database and an empty Redis)."""
    layer = request.param
    env = server_env(redis_server.url, layer)
    first = DaphneServer(artifacts_dir / "daphne", env=env)
    second = DaphneServer(artifacts_dir / "daphne", env=env)
    with first, second:
        yield layer, first, second


@dataclass
class Cluster:
    layer: str
    a: DaphneServer
    b: DaphneServer
    redis_url: str


@pytest.fixture
def cluster(
    layer_servers: tuple[str, DaphneServer, DaphneServer],
    redis_url: str,
    transactional_db: None,
    settings: Any,
) -> Cluster:
    """The two servers, with this test process on the same channel layer, so
    what the services do here (end, remove a member) reaches their sockets."""
    layer, a, b = layer_servers
    settings.REDIS_URL = redis_url
    settings.CHANNEL_LAYERS = channel_layers_for(redis_url, layer, 86400)
    return Cluster(layer, a, b, redis_url)


@pytest.fixture
def start_server(
    redis_url: str, transactional_db: None, artifacts_dir: Path
) -> Iterator[Callable[..., DaphneServer]]:
    """Extra daphne processes for one test (for example, one to kill)."""
    started: list[DaphneServer] = []

    def start(layer: str, **extra: str) -> DaphneServer:
        server = DaphneServer(artifacts_dir / "daphne", env=server_env(redis_url, layer, **extra))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class Member:
    user: User
    session: str


@dataclass
class Meeting:
    room: Room
    host: Member
    members: list[Member]


@pytest.fixture
def server(transactional_db: None, artifacts_dir: Path) -> Iterator[DaphneServer]:
    """One daphne on the in-memory layer, with the default timers (its
    framing and its handling of one socket's messages are what is tested)."""
    env = {"DATABASE_URL": database_url_for_subprocess(), "LOG_LEVEL": "INFO"}
    daphne = DaphneServer(artifacts_dir / "daphne", env=env)
    with daphne:
        yield daphne


@pytest.fixture
def meeting(transactional_db: None) -> Meeting:
    """A 4-seat room with its host and six members, each with a real session."""
    owner = User.objects.create_user("host", password="pw", display_name="Host")
    room = services.room_create(owner=owner, name="Room", max_participants=4)
    people = []
    for index in range(6):
        user = User.objects.create_user(f"member{index}", password="pw")
        Membership.objects.create(room=room, user=user)
        people.append(Member(user, session_for(user)))
    return Meeting(room, Member(owner, session_for(owner)), people)


class Closed(AssertionError):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class WsPeer:
    """One browser's signaling socket to a real server."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.token = ""
        self._pinger: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, server: DaphneServer, slug: str, session: str | None) -> WsPeer:
        headers = {"Cookie": f"sessionid={session}"} if session else {}
        ws = await connect(
            f"{server.ws_url}/ws/rooms/{slug}/",
            origin=server.url,  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=WAIT,
        )
        return cls(ws)

    @property
    def peer(self) -> str:
        return str(self.welcome["peer"])

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, within: float = WAIT) -> dict[str, Any]:
        """The next frame other than ``pong`` and ``resume-token`` (kept, as a
        browser does, in ``token``); ``Closed`` if the server closed."""
        async with asyncio.timeout(within):
            while True:
                try:
                    frame = json.loads(await self.ws.recv())
                except ConnectionClosed as closed:
                    raise Closed(closed.rcvd.code if closed.rcvd else None) from None
                if frame["type"] == "resume-token":
                    self.token = str(frame["token"])
                elif frame["type"] != "pong":
                    return frame

    async def expect(self, kind: str, within: float = WAIT, **fields: Any) -> dict[str, Any]:
        frame = await self.recv(within)
        assert frame["type"] == kind, frame
        for key, value in fields.items():
            assert frame.get(key) == value, (key, frame)
        return frame

    async def closed(self, within: float = WAIT) -> int | None:
        try:
            frame = await self.recv(within)
        except Closed as closed:
            return closed.code
        raise AssertionError(f"expected a close, got {frame}")

    async def closes(self, within: float = WAIT) -> int | None:
        """The close code, skipping whatever frames come before it."""
        async with asyncio.timeout(within):
            while True:
                try:
                    await self.recv()
                except Closed as closed:
                    return closed.code

    async def join(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "join", **fields})
        self.welcome = await self.expect("welcome")
        self.token = str(self.welcome.get("resume", ""))
        self._pinger = asyncio.create_task(self._ping(float(self.welcome["heartbeat"])))
        return self.welcome

    def stop_pinging(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()

    async def _ping(self, interval: float) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                await self.send({"type": "ping"})

    async def close(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        await self.ws.close()


@pytest.fixture
async def peers() -> AsyncIterator[Callable[..., Any]]:
    """``await peers(server, slug, session)``; all closed at the end."""
    opened: list[WsPeer] = []

    async def open_(server: DaphneServer, slug: str, session: str | None) -> WsPeer:
        peer = await WsPeer.open(server, slug, session)
        opened.append(peer)
        return peer

    yield open_
    for peer in opened:
        with contextlib.suppress(Exception):
            await peer.close()


async def people_in_the_room(
    server: DaphneServer, meeting: Meeting, peers: Callable[..., Any], count: int
) -> list[WsPeer]:
    """The host and ``count - 1`` members joined in turn, each newcomer's
    `peer-joined` read by everyone before it."""
    joined: list[WsPeer] = []
    for person in [meeting.host, *meeting.members[: count - 1]]:
        peer = await peers(server, meeting.room.slug, person.session)
        await peer.join()
        for earlier in joined:
            await earlier.expect("peer-joined")
        joined.append(peer)
    return joined
