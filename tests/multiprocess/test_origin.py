"""The Origin check on a real daphne: its own handshake path, headers as a
browser or a TLS-terminating proxy sends them, close codes as the browser
sees them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.servers import DaphneServer, database_url_for_subprocess

from .conftest import WAIT, Meeting, WsPeer

pytestmark = pytest.mark.multiprocess

ORIGIN_NOT_ALLOWED = 4003


def start(artifacts_dir: Path, **env: str) -> DaphneServer:
    return DaphneServer(
        artifacts_dir / "daphne",
        env={"DATABASE_URL": database_url_for_subprocess(), "LOG_LEVEL": "INFO", **env},
    )


@pytest.fixture(scope="module")
def server(django_db_setup: None, artifacts_dir: Path) -> Iterator[DaphneServer]:
    daphne = start(artifacts_dir)
    with daphne:
        yield daphne


@pytest.fixture(scope="module")
def behind_tls_proxy(django_db_setup: None, artifacts_dir: Path) -> Iterator[DaphneServer]:
    daphne = start(artifacts_dir, SECURE_PROXY_SSL_HEADER="1")
    with daphne:
        yield daphne


@pytest.fixture(scope="module")
def with_an_origin_list(django_db_setup: None, artifacts_dir: Path) -> Iterator[DaphneServer]:
    daphne = start(artifacts_dir, WS_ALLOWED_ORIGINS="https://meet.example.com")
    with daphne:
        yield daphne


async def close_code(
    server: DaphneServer,
    slug: str,
    session: str,
    origin: str | None,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> int | None:
    """Open a socket as a member and return the code it is closed with; the
    handshake itself must succeed (a refused one raises here)."""
    async with connect(
        f"ws://{host}:{server.port}/ws/rooms/{slug}/",
        origin=origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session}", **(headers or {})},
        open_timeout=WAIT,
    ) as ws:
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
    raise AssertionError("the server sent a frame instead of closing")


async def joins(server: DaphneServer, slug: str, session: str) -> bool:
    """Whether a member's socket from the server's own page gets its welcome."""
    peer = await WsPeer.open(server, slug, session)
    try:
        return (await peer.join())["type"] == "welcome"
    finally:
        await peer.close()


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://127.0.0.1:9", id="same host, other port"),
        pytest.param("http://127.0.0.1", id="same host, default port"),
        pytest.param("https://127.0.0.1:{port}", id="other scheme"),
        pytest.param("null", id="null"),
        pytest.param(None, id="missing"),
        pytest.param("http://127.0.0.1.evil.test:{port}", id="look-alike suffix"),
        pytest.param("http://evil-127.0.0.1:{port}", id="look-alike prefix"),
        pytest.param("http://evil.test@127.0.0.1:{port}", id="userinfo"),
        pytest.param("http://127.0.0.1.:{port}", id="trailing dot"),
        pytest.param("http://[::1]:{port}", id="IPv6 loopback"),
    ],
)
async def test_a_members_socket_from_a_foreign_page_is_closed_with_4003(
    server: DaphneServer, meeting: Meeting, origin: str | None
):
    origin = origin.format(port=server.port) if origin else None
    session = meeting.members[0].session
    assert await close_code(server, meeting.room.slug, session, origin) == ORIGIN_NOT_ALLOWED


async def test_the_sites_own_page_joins_on_127_0_0_1_and_localhost(
    server: DaphneServer, meeting: Meeting
):
    session = meeting.members[0].session
    assert await joins(server, meeting.room.slug, session)
    # make run's other address: Host and Origin both say localhost. Anyone
    # else gets past the origin check too (4401 without a session).
    origin = f"http://localhost:{server.port}"
    assert await close_code(server, meeting.room.slug, "", origin, host="localhost") == 4401
    assert await close_code(server, meeting.room.slug, "", origin) == ORIGIN_NOT_ALLOWED


async def test_behind_a_tls_proxy_only_the_https_page_may_connect(
    behind_tls_proxy: DaphneServer, meeting: Meeting
):
    slug, session = meeting.room.slug, meeting.members[0].session
    https = {"X-Forwarded-Proto": "https"}
    own = f"https://127.0.0.1:{behind_tls_proxy.port}"
    plain = f"http://127.0.0.1:{behind_tls_proxy.port}"
    async with connect(
        f"{behind_tls_proxy.ws_url}/ws/rooms/{slug}/",
        origin=own,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session}", **https},
        open_timeout=WAIT,
    ) as ws:
        await ws.send('{"type": "join"}')
        assert '"type":"welcome"' in str(await ws.recv())
    assert await close_code(behind_tls_proxy, slug, session, plain, https) == ORIGIN_NOT_ALLOWED


async def test_ws_allowed_origins_is_the_whole_list(
    with_an_origin_list: DaphneServer, meeting: Meeting
):
    slug, session = meeting.room.slug, meeting.members[0].session
    own = f"http://127.0.0.1:{with_an_origin_list.port}"
    assert await close_code(with_an_origin_list, slug, session, own) == ORIGIN_NOT_ALLOWED
    listed = "https://meet.example.com"
    assert await close_code(with_an_origin_list, slug, "", listed) == 4401


async def test_refusals_are_logged_and_leave_the_server_well(
    server: DaphneServer, meeting: Meeting
):
    session = meeting.members[0].session
    for _ in range(20):
        code = await close_code(server, meeting.room.slug, session, "http://evil.test")
        assert code == ORIGIN_NOT_ALLOWED
    assert await joins(server, meeting.room.slug, session)
    log = server.output()
    assert "signaling refused path=/ws/rooms/" in log
    assert "origin='http://evil.test' code=4003" in log
    assert "Traceback" not in log
