"""The WebSocket side of the ASGI application.

Only the session cookie is read here; the consumer authenticates it together
with its room check (``access.admit``), in one database call on a reader
thread, instead of Channels' ``AuthMiddlewareStack``, which loads the session
and the user in two calls on the single database thread and wraps every
outgoing frame in a session-saving ``send`` the WebSocket never needs.

One route, so one function instead of Channels' ``CookieMiddleware`` and
``URLRouter``: each of those copies the scope and keeps its own coroutine
frame alive for as long as the socket is open, which every idle socket paid
for (docs/benchmarks.md, "Fourth run"). The consumer sees the same scope
keys as under them (``cookies``, here only the session's, and
``url_route``).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie

from .consumers import CallConsumer

# Django's <str:slug>: anything but a slash.
CALL_PATH = re.compile(r"/?ws/rooms/(?P<slug>[^/]+)/")

call_consumer = CallConsumer.as_asgi()


def session_cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The session cookie of the first ``Cookie`` header, as Channels'
    ``CookieMiddleware`` would read it (an empty dict if there is none)."""
    for name, value in headers:
        if name == b"cookie":
            cookies = parse_cookie(value.decode("latin1"))
            session = cookies.get(settings.SESSION_COOKIE_NAME)
            return {} if session is None else {settings.SESSION_COOKIE_NAME: session}
    return {}


async def websocket_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``ws/rooms/<slug>/`` to the call consumer, with one copy of the scope."""
    path = scope.get("path_remaining", scope["path"])
    match = CALL_PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"No route found for path {path!r}.")  # as URLRouter
    route = {"args": (), "kwargs": {"slug": match["slug"]}}
    await call_consumer(
        dict(scope, cookies=session_cookies(scope["headers"]), url_route=route), receive, send
    )
