"""The WebSocket Origin check (signaling/origin.py), through the real ASGI stack.

Every refused socket is accepted and closed with 4003 before the session or
the room is looked at; an allowed one reaches the consumer.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import ApplicationCommunicator
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from meet.asgi import application
from signaling.origin import OriginCheckMiddleware, origin_allowed, parse_origin
from signaling.protocol import CloseCode

from .conftest import WAIT, World

HOST = b"127.0.0.1:8000"
# Without a session cookie, a socket that gets past the origin check is
# closed by the consumer with 4401: a different code, so the two are told apart.
PAST_THE_ORIGIN_CHECK = CloseCode.NOT_SIGNED_IN


def scope(
    origin: bytes | None = b"http://127.0.0.1:8000",
    *,
    host: bytes | None = HOST,
    scheme: str | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
    path: str = "/ws/rooms/xkq-mdwt-pzr/",
) -> dict[str, Any]:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if host is not None:
        headers.append((b"host", host))
    headers += extra or []
    result: dict[str, Any] = {
        "type": "websocket",
        "path": path,
        "query_string": b"",
        "headers": headers,
        "subprotocols": [],
    }
    if scheme:
        result["scheme"] = scheme
    return result


async def close_code(socket_scope: dict[str, Any], app: Any = application) -> int:
    """Open a socket with ``socket_scope``: it must be accepted, then closed."""
    communicator = ApplicationCommunicator(app, socket_scope)
    await communicator.send_input({"type": "websocket.connect"})
    accepted = await communicator.receive_output(WAIT)
    assert accepted["type"] == "websocket.accept", "every handshake is accepted"
    closed = await communicator.receive_output(WAIT)
    assert closed["type"] == "websocket.close", closed
    assert type(closed["code"]) is int, "daphne (autobahn) accepts only a plain int"
    await communicator.send_input({"type": "websocket.disconnect", "code": closed["code"]})
    await communicator.wait(WAIT)
    return closed["code"]


@pytest.fixture(autouse=True)
def database_for_the_consumer(transactional_db: None) -> None:
    """Sockets that pass the check reach the consumer, which may read the database."""


# --- The site's own origin -------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        (b"127.0.0.1:8000", b"http://127.0.0.1:8000"),  # make run
        (b"localhost:8000", b"http://localhost:8000"),
        (b"[::1]:8000", b"http://[::1]:8000"),
        (b"testserver", b"http://testserver"),
        # Origins are case-insensitive; the default port is the same as none.
        (b"127.0.0.1:8000", b"HTTP://127.0.0.1:8000"),
        (b"testserver:80", b"http://testserver"),
    ],
)
async def test_a_page_of_the_site_itself_may_open_a_socket(host, origin, settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
    assert await close_code(scope(origin, host=host)) == PAST_THE_ORIGIN_CHECK


async def test_a_member_from_the_site_itself_joins(world: World):
    """The whole way: allowed origin, session, membership, welcome."""
    socket_scope = scope(b"http://testserver", host=b"testserver", path=f"/ws/rooms/{world.slug}/")
    socket_scope["headers"].append((b"cookie", f"sessionid={world.alex.session}".encode()))
    communicator = ApplicationCommunicator(application, socket_scope)
    await communicator.send_input({"type": "websocket.connect"})
    assert (await communicator.receive_output(WAIT))["type"] == "websocket.accept"
    await communicator.send_input({"type": "websocket.receive", "text": '{"type": "join"}'})
    welcome = await communicator.receive_output(WAIT)
    assert '"type":"welcome"' in welcome["text"]
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(WAIT)


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(b"http://127.0.0.1:9", id="same host, other port"),
        pytest.param(b"http://127.0.0.1", id="same host, default port"),
        pytest.param(b"https://127.0.0.1:8000", id="other scheme"),
        pytest.param(b"null", id="null (sandboxed frame, file://, data: URL)"),
        pytest.param(b"file://", id="file"),
        pytest.param(b"ws://127.0.0.1:8000", id="ws scheme"),
        pytest.param(b"http://127.0.0.1.evil.test:8000", id="look-alike suffix"),
        pytest.param(b"http://evil-127.0.0.1:8000", id="look-alike prefix"),
        pytest.param(b"http://127.0.0.1:8000.evil.test", id="port look-alike"),
        pytest.param(b"http://127.0.0.1:8000@evil.test", id="userinfo, evil host"),
        pytest.param(b"http://evil.test@127.0.0.1:8000", id="userinfo, our host"),
        pytest.param(b"http://127.0.0.1.:8000", id="trailing dot"),
        pytest.param(b"http://[::1]:8000", id="IPv6 loopback is another host"),
        pytest.param(b"http://[::ffff:127.0.0.1]:8000", id="IPv4-mapped IPv6"),
        pytest.param(b"http://2130706433:8000", id="127.0.0.1 as a number"),
        pytest.param(b"http://127.0.0.1:8000/", id="with a path"),
        pytest.param(b"http://127.0.0.1:8000 http://evil.test", id="two in one"),
        pytest.param(b"", id="empty"),
        pytest.param(None, id="missing"),
    ],
)
async def test_a_foreign_page_is_closed_with_4003(origin):
    assert await close_code(scope(origin)) == CloseCode.ORIGIN_NOT_ALLOWED
    assert CloseCode.ORIGIN_NOT_ALLOWED.value == 4003


async def test_two_origin_headers_are_refused():
    both = scope(b"http://127.0.0.1:8000", extra=[(b"origin", b"http://evil.test")])
    assert await close_code(both) == CloseCode.ORIGIN_NOT_ALLOWED


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        # DNS rebinding: the page and the socket agree, the host is not ours.
        (b"evil.test:8000", b"http://evil.test:8000"),
        (b"127.0.0.1.evil.test:8000", b"http://127.0.0.1.evil.test:8000"),
        (None, b"http://127.0.0.1:8000"),
        (b"127.0.0.1:8000@evil.test", b"http://127.0.0.1:8000"),
    ],
)
async def test_a_host_outside_allowed_hosts_is_not_the_sites_own_origin(host, origin):
    assert await close_code(scope(origin, host=host)) == CloseCode.ORIGIN_NOT_ALLOWED


@pytest.mark.parametrize("origin", [b"http://[::1]:9", b"http://[::2]:8000", b"https://[::1]:8000"])
async def test_ipv6_host_compares_port_and_address(origin, settings):
    settings.ALLOWED_HOSTS = ["[::1]"]
    assert await close_code(scope(origin, host=b"[::1]:8000")) == CloseCode.ORIGIN_NOT_ALLOWED


async def test_an_empty_allowed_hosts_under_debug_means_localhost(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []
    local = scope(b"http://localhost:8000", host=b"localhost:8000")
    assert await close_code(local) == PAST_THE_ORIGIN_CHECK
    foreign = scope(b"http://meet.example.com", host=b"meet.example.com")
    assert await close_code(foreign) == CloseCode.ORIGIN_NOT_ALLOWED


async def test_refused_before_the_session_or_the_room_is_looked_at():
    reached: list[dict[str, Any]] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        reached.append(scope)

    app = OriginCheckMiddleware(inner)
    assert await close_code(scope(b"http://evil.test"), app) == CloseCode.ORIGIN_NOT_ALLOWED
    assert reached == []


# --- Scheme: TLS at daphne or at a proxy -------------------------------------------


def test_a_wss_socket_belongs_to_the_https_page():
    assert origin_allowed(scope(b"https://127.0.0.1:8000", scheme="wss"))
    assert not origin_allowed(scope(b"http://127.0.0.1:8000", scheme="wss"))


def test_behind_a_tls_proxy_the_forwarded_scheme_decides(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    https = [(b"x-forwarded-proto", b"https")]
    assert origin_allowed(scope(b"https://127.0.0.1:8000", extra=https))
    # A page injected into the plain-http site cannot use the https site's socket.
    assert not origin_allowed(scope(b"http://127.0.0.1:8000", extra=https))
    http = [(b"x-forwarded-proto", b"http")]
    assert origin_allowed(scope(b"http://127.0.0.1:8000", extra=http))
    assert not origin_allowed(scope(b"https://127.0.0.1:8000", extra=http))


def test_the_forwarded_scheme_is_ignored_unless_the_proxy_is_trusted(settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    https = [(b"x-forwarded-proto", b"https")]
    assert not origin_allowed(scope(b"https://127.0.0.1:8000", extra=https))
    assert origin_allowed(scope(b"http://127.0.0.1:8000", extra=https))


# --- Configured origins ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (b"https://meet.example.com", True),
        (b"https://meet.example.com:443", True),
        (b"http://meet.example.com", False),
        (b"https://meet.example.com:8443", False),
        (b"https://meet.example.com.evil.test", False),
        (b"https://a.example.org", True),
        (b"https://example.org", True),  # as Django reads "*." entries
        (b"https://a.b.example.org", True),
        (b"https://evilexample.org", False),
        (b"http://a.example.org", False),
        (b"https://a.example.org:8443", False),
        (b"https://a.example.org.evil.test", False),
    ],
)
def test_csrf_trusted_origins_may_open_sockets(origin, allowed, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://meet.example.com", "https://*.example.org"]
    # A proxy that passes its own upstream name as Host: only the list helps.
    assert origin_allowed(scope(origin, host=b"127.0.0.1:8000")) is allowed


def test_ws_allowed_origins_replace_the_defaults(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://other.example.com"]
    settings.WS_ALLOWED_ORIGINS = ["https://meet.example.com", "http://localhost:8000"]
    assert origin_allowed(scope(b"https://meet.example.com"))
    assert origin_allowed(scope(b"http://localhost:8000"))
    assert not origin_allowed(scope(b"http://127.0.0.1:8000"))  # own origin no longer implied
    assert not origin_allowed(scope(b"https://other.example.com"))


@pytest.mark.parametrize(
    "entry", ["meet.example.com", "https://meet.example.com/", "https://*.example.com", "null"]
)
def test_a_malformed_ws_allowed_origin_stops_the_server_and_fails_the_check(entry, settings):
    settings.WS_ALLOWED_ORIGINS = [entry]
    with pytest.raises(ImproperlyConfigured, match="WS_ALLOWED_ORIGINS"):
        OriginCheckMiddleware(application)
    assert "signaling.E001" in [message.id for message in run_checks()]


def test_parse_origin_serializes_like_a_browser():
    assert str(parse_origin("HTTPS://Meet.Example.COM:443")) == "https://meet.example.com"
    assert str(parse_origin("http://[::1]:8000")) == "http://[::1]:8000"
    assert parse_origin("http://a..b") is None
    assert parse_origin("http://x:0") is None
    assert parse_origin("http://x:65536") is None
