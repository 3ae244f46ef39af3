"""A busy first day against one real daphne, on SQLite and on PostgreSQL.

People accept invites (some signing up on the way) and create meetings all
at once while whole rooms join their calls. Every response must be a page a
person can act on (no 5xx), every accepted invite is counted exactly once,
and ``max_uses`` holds when twenty people race for the last use.

The HTTP side runs in threads with a cookie jar each, like browsers; the
call side is real WebSockets. The test database is the one the server uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection, connections
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidMessage

from accounts.models import User
from rooms import services
from rooms.models import AuditEvent, Invite, Membership, Room
from tests.servers import DaphneServer, database_url_for_subprocess
from tests.sessions import session_for

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")

PASSWORD = "a-long-test-password"
WAIT = 60.0
REDIALS = 3
REDIAL_PAUSE = 0.5


def storm_size() -> dict[str, int]:
    """How many of each. On PostgreSQL every request and every call check
    opens its own connection (no pooling in the test, where a deployment has
    PgBouncer), which costs a process fork each: fewer browsers at once keep
    it under the server's 100 connection slots and this machine's 2 cores."""
    sqlite = connection.vendor == "sqlite"
    return {
        "accepts": 120,
        "signups": 20,
        "creations": 20,
        "call_rooms": 25 if sqlite else 10,
        "racers": 20,
        "in_flight": 120 if sqlite else 20,
    }


@pytest.fixture(scope="module")
def server(django_db_setup: None, artifacts_dir: Path) -> Iterator[DaphneServer]:
    env = {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        # Nobody pings in this test; nobody should be closed for it either.
        "SIGNALING_HEARTBEAT_TIMEOUT": "120",
        "SIGNALING_PRESENCE_TTL": "120",
    }
    daphne = DaphneServer(artifacts_dir / "daphne", env=env)
    with daphne:
        yield daphne


# --- One browser ---------------------------------------------------------------------


@dataclass
class Browser:
    """Cookies, CSRF and the status of every response, like a real browser
    (redirects are followed by hand, so each one is seen)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    statuses: list[tuple[str, str, int]] = field(default_factory=list)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """One request; returns (status, Location, body)."""
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            location = response.headers.get("Location", "")
        finally:
            conn.close()
        self.statuses.append((method, path, response.status))
        return response.status, location, text

    def get(self, path: str) -> tuple[int, str, str]:
        """GET, following redirects within the site."""
        status, location, text = self.request("GET", path)
        while status in (301, 302) and location:
            path = urlsplit(location).path + (
                f"?{urlsplit(location).query}" if urlsplit(location).query else ""
            )
            status, location, text = self.request("GET", path)
        return status, path, text

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """POST, then follow the redirect (if any) with a GET; returns the
        POST's status and where the browser ended up."""
        status, location, _text = self.request("POST", path, form)
        if status in (301, 302) and location:
            _status, final, _text = self.get(urlsplit(location).path)
            return status, final
        return status, path


def server_errors(browsers: list[Browser]) -> list[tuple[str, str, int]]:
    return [entry for browser in browsers for entry in browser.statuses if entry[2] >= 500]


# --- The people ------------------------------------------------------------------------


def accept(browser: Browser, token: str, gate: threading.Barrier | None = None) -> int:
    """Open the link and accept; returns the status of the accepting POST."""
    browser.get(f"/i/{token}/")
    if gate is not None:
        gate.wait(WAIT)
    status, _where = browser.post("/invite/", {})
    return status


def sign_up_and_accept(browser: Browser, token: str, username: str) -> int:
    status, where, _text = browser.get(f"/i/{token}/")  # → the sign-up page
    assert (status, where.partition("?")[0]) == (200, "/accounts/signup/")
    form = {
        "email": f"{username}@example.com",
        "username": username,
        "display_name": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    status, where = browser.post(where, form)
    assert (status, where) == (302, "/invite/")
    status, _where = browser.post("/invite/", {})
    return status


def create_room(browser: Browser, name: str) -> int:
    browser.get("/rooms/new/")
    status, _where = browser.post("/rooms/new/", {"name": name, "max_participants": "4"})
    return status


async def join_call(
    server: DaphneServer, slug: str, session: str, redials: list[str]
) -> ClientConnection:
    """Open the call socket and join. A handshake the server dropped (daphne
    gives up on one its application has not accepted within 5 s) is dialled
    again after a pause, as the browser's signaling client does; ``redials``
    counts them."""
    for attempt in range(REDIALS + 1):
        try:
            ws = await connect(
                f"{server.ws_url}/ws/rooms/{slug}/",
                origin=server.url,  # type: ignore[arg-type]
                additional_headers={"Cookie": f"sessionid={session}"},
                open_timeout=WAIT,
            )
        except (InvalidMessage, OSError):
            if attempt == REDIALS:
                raise
            redials.append(slug)
            await asyncio.sleep(REDIAL_PAUSE * (attempt + 1))
            continue
        await ws.send(json.dumps({"type": "join"}))
        async with asyncio.timeout(WAIT):
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "welcome":
                    return ws
                assert frame["type"] in ("peer-joined", "pong"), frame
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def sockets() -> AsyncIterator[list[ClientConnection]]:
    opened: list[ClientConnection] = []
    try:
        yield opened
    finally:
        await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """ORM work from the async test, in a thread whose connection is closed
    afterwards (so none is left open when the test database is dropped)."""

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)


def signed_in(server: DaphneServer, user: User) -> Browser:
    return Browser(server.port, cookies={"sessionid": session_for(user)})


def joined_through(invite: Invite) -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_JOINED, invite=invite).count()


# --- The day -----------------------------------------------------------------------------


async def test_invites_and_new_meetings_succeed_while_rooms_join_their_calls(
    server: DaphneServer,
) -> None:
    size = storm_size()
    host = await in_thread(User.objects.create_user, "host", password=PASSWORD)
    target = await in_thread(services.room_create, owner=host, name="All hands")
    open_invite, open_token = await in_thread(services.invite_create, room=target, created_by=host)
    capped = size["accepts"] // 2
    capped_invite, capped_token = await in_thread(
        services.invite_create, room=target, created_by=host, max_uses=capped
    )

    def people() -> tuple[list[Browser], list[Browser], list[tuple[Room, list[str]]]]:
        accepters = [
            signed_in(server, User.objects.create_user(f"guest{i}", password=PASSWORD))
            for i in range(size["accepts"] - size["signups"])
        ]
        creators = [
            signed_in(server, User.objects.create_user(f"maker{i}", password=PASSWORD))
            for i in range(size["creations"])
        ]
        calls = []
        for r in range(size["call_rooms"]):
            owner = User.objects.create_user(f"owner{r}", password=PASSWORD)
            room = services.room_create(owner=owner, name=f"Call {r}")
            sessions = [session_for(owner)]
            for m in range(3):
                user = User.objects.create_user(f"caller{r}-{m}", password=PASSWORD)
                Membership.objects.create(room=room, user=user)
                sessions.append(session_for(user))
            calls.append((room, sessions))
        return accepters, creators, calls

    accepters, creators, calls = await in_thread(people)
    newcomers = [Browser(server.port) for _ in range(size["signups"])]

    def http_storm() -> list[tuple[str, int]]:
        jobs = []
        with ThreadPoolExecutor(max_workers=size["in_flight"]) as pool:
            for i, browser in enumerate(accepters):
                # Half through the link with a cap that is never reached, half unlimited.
                token = capped_token if i % 2 else open_token
                jobs.append(("accept", pool.submit(accept, browser, token)))
            for i, browser in enumerate(newcomers):
                jobs.append(
                    ("signup", pool.submit(sign_up_and_accept, browser, open_token, f"new{i}"))
                )
            for i, browser in enumerate(creators):
                jobs.append(("create", pool.submit(create_room, browser, f"Meeting {i}")))
            return [(kind, job.result(timeout=WAIT)) for kind, job in jobs]

    async with sockets() as opened:
        storm = asyncio.create_task(asyncio.to_thread(http_storm))
        redials: list[str] = []
        joins = [
            join_call(server, room.slug, session, redials)
            for room, sessions in calls
            for session in sessions
        ]
        for ws in await asyncio.gather(*joins):
            opened.append(ws)
        results = await storm
        if redials:
            print(f"{len(redials)} call sockets were dialled again")
        assert len(opened) == 4 * size["call_rooms"]

    browsers = accepters + newcomers + creators
    assert server_errors(browsers) == []
    assert Counter(results) == Counter(
        {
            ("accept", 302): len(accepters),
            ("signup", 302): len(newcomers),
            ("create", 302): len(creators),
        }
    )

    def counts() -> dict[str, int]:
        open_invite.refresh_from_db()
        capped_invite.refresh_from_db()
        return {
            "open_uses": open_invite.use_count,
            "open_joined": joined_through(open_invite),
            "capped_uses": capped_invite.use_count,
            "capped_joined": joined_through(capped_invite),
            "members": Membership.objects.filter(room=target).count(),
            "new_rooms": Room.objects.filter(name__startswith="Meeting ").count(),
            "new_accounts": User.objects.filter(username__startswith="new").count(),
        }

    found = await in_thread(counts)
    accepted_open = len(accepters) - len(accepters) // 2 + len(newcomers)
    assert found == {
        "open_uses": accepted_open,
        "open_joined": accepted_open,
        "capped_uses": len(accepters) // 2,
        "capped_joined": len(accepters) // 2,
        "members": 1 + len(accepters) + len(newcomers),
        "new_rooms": len(creators),
        "new_accounts": len(newcomers),
    }


async def test_twenty_people_racing_for_the_last_use_let_exactly_one_in(
    server: DaphneServer,
) -> None:
    size = storm_size()
    racers = size["racers"]

    def setup() -> tuple[Room, Invite, str, list[Browser]]:
        host = User.objects.create_user("host", password=PASSWORD)
        room = services.room_create(owner=host, name="Last seat")
        invite, token = services.invite_create(room=room, created_by=host, max_uses=5)
        for i in range(4):
            services.invite_accept(token=token, user=User.objects.create_user(f"early{i}"))
        browsers = [
            signed_in(server, User.objects.create_user(f"racer{i}", password=PASSWORD))
            for i in range(racers)
        ]
        return room, invite, token, browsers

    room, invite, token, browsers = await in_thread(setup)
    # Everyone has the confirm page open; then all press "Accept" together.
    gate = threading.Barrier(racers)

    def race() -> list[int]:
        with ThreadPoolExecutor(max_workers=racers) as pool:
            jobs = [pool.submit(accept, browser, token, gate) for browser in browsers]
            return [job.result(timeout=WAIT) for job in jobs]

    statuses = await asyncio.to_thread(race)
    assert server_errors(browsers) == []
    # One gets in; everyone else is told the link is used up (410).
    assert sorted(statuses) == [302] + [410] * (racers - 1)

    def counts() -> tuple[int, int, int]:
        invite.refresh_from_db()
        return (
            invite.use_count,
            joined_through(invite),
            Membership.objects.filter(room=room).count(),
        )

    assert await in_thread(counts) == (5, 5, 1 + 5)
