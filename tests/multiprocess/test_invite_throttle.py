"""Invite guesses are counted in the shared Redis cache: spreading them over
two real daphne processes does not get a guesser more."""

from __future__ import annotations

import re
import secrets
import urllib.error
import urllib.request

import pytest

from rooms import services
from rooms.tests.conftest import make_room, make_user

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]


def status(url: str) -> int:
    # Redirects are not followed: a valid link answers 302 itself.
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_guesses_spread_over_two_processes_share_one_limit(start_server):
    # A window of days: the few requests here never straddle two.
    limits = {"INVITE_GUESS_LIMIT": "10", "INVITE_GUESS_WINDOW": str(10**6)}
    first = start_server("pubsub", **limits)
    second = start_server("pubsub", **limits)
    owner = make_user("owner")
    _invite, token = services.invite_create(
        room=make_room(owner), created_by=owner, expires_in=None, max_uses=None
    )
    statuses = [
        status(f"{server.url}/i/{secrets.token_urlsafe(32)}/")
        for _ in range(6)
        for server in (first, second)
    ]
    # Ten failures in all, then both processes refuse the same address,
    # valid links included.
    assert statuses == [404] * 10 + [429, 429]
    assert status(f"{first.url}/i/{token}/") == 429
    assert status(f"{second.url}/i/{token}/") == 429
    # The application's log lines (daphne's own access log, the NCSA-style
    # lines, prints whole paths: docs/deployment.md says how to run it).
    logged = [
        line
        for line in (first.output() + second.output()).splitlines()
        if re.match(r"\d{4}-\d\d-\d\d \d\d:", line)
    ]
    assert any("invite look-up failed address=127.0.0.1" in line for line in logged)
    assert any("Too Many Requests: /i/[token]/" in line for line in logged)
    assert not [line for line in logged if token in line]
