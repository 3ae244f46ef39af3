"""Which pages may open a signaling socket: the WebSocket ``Origin`` check.

A browser attaches the user's cookies to a WebSocket handshake whatever page
opens it, and does not apply the same-origin policy to WebSockets; the
``Origin`` header it sends is the only thing that tells our own page from
anyone else's. So the whole origin is compared (scheme, host and port), never
the host alone: ``http://127.0.0.1:9`` is not ``http://127.0.0.1:8000``, and
``http://meet.example.com`` is not ``https://meet.example.com``.

By default a socket is allowed from the pages Django's CSRF check allows to
POST a form:

- the site's own origin: the request's scheme (``wss`` is ``https``; behind a
  proxy, what ``SECURE_PROXY_SSL_HEADER`` says) with its ``Host`` header, if
  that host is in ``ALLOWED_HOSTS``. That covers ``make run`` on both
  ``http://127.0.0.1:8000`` and ``http://localhost:8000`` without a list;
- every origin in ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.com`` entries
  included, as Django reads them).

``WS_ALLOWED_ORIGINS``, when set, replaces both with an exact list.

A refused socket is accepted and closed at once with 4003, before the
session, the user or the room is looked at: a foreign page learns only that
its origin is not allowed (the same for every visitor), and our own page on
a misconfigured deployment can tell the person why the call does not work.
Refusing the handshake with HTTP 403 would reach the page only as an
unexplained 1006.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port, validate_host

from .protocol import CloseCode

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# What a browser serializes an origin to (lower-cased first): a scheme, a
# host name or bracketed IPv6 address, an optional port, and nothing else:
# no userinfo, path, query or fragment.
_ORIGIN_RE = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)
# An origin in a log line is attacker-chosen text: cut to this length.
LOG_LIMIT = 100


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        if self.port == DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_origin(value: str) -> Origin | None:
    """``value`` as an origin, or ``None`` if it is not one (``null``, a URL
    with a path or userinfo, another scheme). Case does not matter; the
    default port is the same as none."""
    match = _ORIGIN_RE.fullmatch(value.strip().lower())
    if match is None:
        return None
    scheme, host = match["scheme"], match["host"]
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536 or host.startswith(".") or ".." in host:
        return None
    return Origin(scheme, host, port)


class Wildcard(NamedTuple):
    """A ``scheme://*.domain[:port]`` entry of ``CSRF_TRUSTED_ORIGINS``: the
    domain itself and every subdomain, on that scheme and port only."""

    scheme: str
    domain: str
    port: int

    def matches(self, origin: Origin) -> bool:
        return (
            origin.scheme == self.scheme
            and origin.port == self.port
            and (origin.host == self.domain or origin.host.endswith("." + self.domain))
        )


class AllowedOrigins(NamedTuple):
    exact: frozenset[Origin]
    wildcards: tuple[Wildcard, ...]
    # Whether the site's own origin (derived from the request) is allowed too.
    own: bool


def _exact_list(entries: Iterable[str], setting: str) -> frozenset[Origin]:
    origins = set()
    for entry in entries:
        origin = parse_origin(entry)
        if origin is None:
            raise ImproperlyConfigured(
                f"{setting}: {entry!r} is not an origin (scheme://host[:port], "
                "http or https, no path)."
            )
        origins.add(origin)
    return frozenset(origins)


@functools.lru_cache(maxsize=8)
def _allowed(ws_allowed: tuple[str, ...], csrf_trusted: tuple[str, ...]) -> AllowedOrigins:
    if ws_allowed:
        return AllowedOrigins(_exact_list(ws_allowed, "WS_ALLOWED_ORIGINS"), (), own=False)
    exact = set()
    wildcards = []
    for entry in csrf_trusted:
        # Django only ever compares these, so an entry it could never match
        # (one with a path, say) matches nothing here either.
        if "://*." in entry:
            scheme, _, rest = entry.partition("://*.")
            parsed = parse_origin(f"{scheme}://{rest}")
            if parsed is not None:
                wildcards.append(Wildcard(*parsed))
        elif (parsed := parse_origin(entry)) is not None:
            exact.add(parsed)
    return AllowedOrigins(frozenset(exact), tuple(wildcards), own=True)


def allowed_origins() -> AllowedOrigins:
    """The configured origins (raises ``ImproperlyConfigured`` for a malformed
    ``WS_ALLOWED_ORIGINS`` entry)."""
    return _allowed(
        tuple(getattr(settings, "WS_ALLOWED_ORIGINS", ())),
        tuple(settings.CSRF_TRUSTED_ORIGINS),
    )


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    """The one value of header ``name``; ``None`` if it is missing or repeated."""
    values = [value for key, value in scope.get("headers", ()) if key == name]
    if len(values) != 1:
        return None
    value: bytes = values[0]
    return value.decode("latin1")


def _is_secure(scope: dict[str, Any]) -> bool:
    """``request.is_secure()`` for a WebSocket scope, trusting the proxy's
    header exactly when Django would."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        value = _header(scope, name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "wss"


def own_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin of a page served by this site at the address the socket was
    opened on, or ``None`` if that host is not one of ``ALLOWED_HOSTS``."""
    host = None
    if settings.USE_X_FORWARDED_HOST:
        host = _header(scope, b"x-forwarded-host")
    if host is None:
        host = _header(scope, b"host")
    if not host:
        return None
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    return parse_origin(f"{'https' if _is_secure(scope) else 'http'}://{host}")


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Whether the page that opened this socket may use it (see the module)."""
    value = _header(scope, b"origin")
    origin = parse_origin(value) if value is not None else None
    if origin is None:
        return False
    allowed = allowed_origins()
    if origin in allowed.exact or any(w.matches(origin) for w in allowed.wildcards):
        return True
    return allowed.own and origin == own_origin(scope)


class OriginCheckMiddleware:
    """ASGI middleware: a WebSocket from a page whose origin is not allowed is
    closed with 4003 right after the handshake, and never reaches ``app``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        allowed_origins()  # a malformed WS_ALLOWED_ORIGINS stops the server at start

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket" or origin_allowed(scope):
            await self.app(scope, receive, send)
            return
        logger.info(
            "signaling refused path=%s origin=%r code=%d",
            scope.get("path", ""),
            (_header(scope, b"origin") or "")[:LOG_LIMIT],
            CloseCode.ORIGIN_NOT_ALLOWED,
        )
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        # A plain int: autobahn refuses int subclasses such as IntEnum members.
        await send({"type": "websocket.close", "code": int(CloseCode.ORIGIN_NOT_ALLOWED)})
