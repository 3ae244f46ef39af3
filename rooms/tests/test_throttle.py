"""Failed invite look-ups are throttled per client address (rooms/throttle.py)."""

from __future__ import annotations

import io
import logging
import secrets
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from rooms import throttle
from rooms.logfilters import RedactInviteTokens
from rooms.models import Invite
from rooms.session import PENDING_INVITE_KEY

from .conftest import make_invite

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.7"
SOMEONE_ELSE = "198.51.100.2"
# The start of a window: the tests' requests never straddle two.
T0 = 1_800_000_000.0


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch) -> list[float]:
    now = [T0]
    monkeypatch.setattr(throttle, "clock", lambda: now[0])
    return now


def open_link(token: str, address: str, client: Client | None = None, **headers):
    client = client or Client()
    return client.get(reverse("rooms:invite_open", args=[token]), REMOTE_ADDR=address, **headers)


def guess(address: str = GUESSER):
    return open_link(secrets.token_urlsafe(32), address)


def throttle_out(address: str = GUESSER) -> None:
    for _ in range(30):
        assert guess(address).status_code == 404


def test_the_100th_failed_guess_in_a_minute_is_throttled_while_a_valid_link_works_for_someone_else(
    room, settings
):
    assert (settings.INVITE_GUESS_LIMIT, settings.INVITE_GUESS_WINDOW) == (30, 60)
    _invite, token = make_invite(room)
    statuses = [guess().status_code for _ in range(100)]
    assert statuses[:30] == [404] * 30
    assert statuses[30:] == [429] * 70
    response = open_link(token, SOMEONE_ELSE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_signup"))


def test_a_valid_link_from_a_throttled_address_waits_too(room):
    """Otherwise the throttle would still tell the guesser which guess was right."""
    _invite, token = make_invite(room)
    throttle_out()
    client = Client()
    response = open_link(token, GUESSER, client)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in response["Cache-Control"]
    assert PENDING_INVITE_KEY not in client.session
    body = response.content.decode()
    assert "Too many invite links that don’t work" in body
    assert "Wait 1 minute, then open your link again." in body


def test_the_throttle_ends_with_its_window(room, frozen_clock):
    _invite, token = make_invite(room)
    throttle_out()
    frozen_clock[0] = T0 + 45
    response = guess()
    assert response.status_code == 429
    assert response["Retry-After"] == "15"
    frozen_clock[0] = T0 + 60
    assert guess().status_code == 404
    assert open_link(token, GUESSER).status_code == 302


def test_links_that_were_real_are_not_counted_as_guesses(room):
    invite, token = make_invite(room)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert [open_link(token, GUESSER).status_code for _ in range(40)] == [410] * 40
    assert guess().status_code == 404


def test_an_ipv6_client_counts_by_its_64_prefix(settings):
    throttle_out("2001:db8:1:2::1")
    assert guess("2001:db8:1:2:ffff:ffff:ffff:ffff").status_code == 429
    assert guess("2001:db8:1:3::1").status_code == 404


def test_the_client_address_is_remote_addr_unless_a_proxy_is_trusted(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9, 203.0.113.7"
    )
    # A guesser cannot dodge the count by sending X-Forwarded-For itself.
    assert throttle.client_address(request) == "10.0.0.1"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert throttle.client_address(request) == "203.0.113.7"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="192.0.2.44")
    assert throttle.client_address(request) == "192.0.2.44"


def test_failed_look_ups_are_logged_without_the_token(caplog):
    """Ours, and Django's own "Not Found: <path>" line, as the console prints them."""
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler)
        and any(isinstance(f, RedactInviteTokens) for f in handler.filters)
    )
    printed = io.StringIO()
    previous = console.setStream(printed)
    token = secrets.token_urlsafe(32)
    try:
        with caplog.at_level(logging.INFO, logger="rooms.throttle"):
            for _ in range(30):
                assert open_link(token, GUESSER).status_code == 404
            assert open_link(token, GUESSER).status_code == 429
    finally:
        console.setStream(previous)
    output = printed.getvalue()
    assert f"invite look-up failed address={GUESSER} failures=1" in output
    assert f"invite look-ups throttled address={GUESSER} after 30 failures" in output
    assert "Not Found: /i/[token]/" in output
    assert "Too Many Requests: /i/[token]/" in output
    assert token not in output
    assert all(token not in record.getMessage() for record in caplog.records)


def test_the_throttled_page_in_korean():
    throttle_out()
    response = open_link("x" * 43, GUESSER, HTTP_ACCEPT_LANGUAGE="ko")
    body = response.content.decode()
    assert response.status_code == 429
    assert "작동하지 않는 초대 링크가 너무 많이 열렸습니다" in body
    assert "1분 기다린 뒤 링크를 다시 여세요." in body


def test_an_unreachable_cache_does_not_break_invite_links(room, monkeypatch):
    _invite, token = make_invite(room)

    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    cache = caches["default"]
    for method in ("get", "add", "incr"):
        monkeypatch.setattr(cache, method, down)
    assert guess().status_code == 404
    assert open_link(token, GUESSER).status_code == 302


@pytest.mark.redis
def test_the_counts_are_shared_through_redis(redis_url, settings):
    """Several server processes share one Redis cache: a guesser cannot spread
    guesses over them. Two cache clients stand for two processes."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    for _ in range(29):
        throttle.failure_record(GUESSER)
    other_process = caches.create_connection("default")
    key = throttle.invite_guesses.key(GUESSER, int(T0 // 60))
    assert other_process.get(key) == 29
    other_process.incr(key)
    assert throttle.throttled_for(GUESSER) == 60
    assert guess().status_code == 429


# --- The counter both throttles share (invite guesses, guest creation) -----------------


def test_a_windowed_counter_refuses_at_its_limit_until_its_window_ends(settings):
    settings.INVITE_GUESS_LIMIT, settings.INVITE_GUESS_WINDOW = 2, 60
    counter = throttle.WindowedCounter(
        "test-counter", limit="INVITE_GUESS_LIMIT", window="INVITE_GUESS_WINDOW", what="test"
    )
    assert [counter.record(GUESSER, T0 + 10) for _ in range(2)] == [1, 2]
    assert counter.throttled_for(GUESSER, T0 + 10) == 50  # the seconds left in the window
    assert counter.throttled_for(SOMEONE_ELSE, T0 + 10) == 0
    assert counter.throttled_for(GUESSER, T0 + 60) == 0  # a new window starts at zero


def test_the_two_throttles_count_apart(settings):
    settings.INVITE_GUESS_LIMIT = settings.GUEST_CREATE_LIMIT = 1
    throttle.guest_created_record(GUESSER)
    assert throttle.guest_throttled_for(GUESSER) > 0
    assert throttle.throttled_for(GUESSER) == 0
