"""Throttling invite-link guesses, per client address.

Invite tokens are 256 random bits, so guessing one is hopeless; the throttle
keeps a guesser from costing a database query per try and makes the attempt
visible in the logs. A failed look-up is an invite link that leads to no
invite at all (404); links that were real once (expired, revoked, used up)
are not guesses and are not counted.

- At most ``INVITE_GUESS_LIMIT`` failed look-ups per address per
  ``INVITE_GUESS_WINDOW`` seconds (a window of the clock, so a burst across
  two windows can reach twice the limit). The counters live in Django's
  cache, which is Redis, shared by every server process, when ``REDIS_URL``
  (or Sentinel) is set.
- Once an address is over the limit, **every** invite link opened from it
  gets the 429 page until the window ends, valid ones included: answering
  valid links while refusing wrong ones would still tell the guesser which
  guess was right. People on other addresses are not affected.
- The address is the one allauth's login rate limits use: ``REMOTE_ADDR``,
  unless ``ALLAUTH_TRUSTED_PROXY_COUNT`` or ``ALLAUTH_TRUSTED_CLIENT_IP_HEADER``
  say which proxy header to believe. IPv6 addresses count by their /64
  prefix (``ALLAUTH_RATE_LIMIT_IPV6_PREFIX``), which one client usually has
  whole.
- If the cache cannot be reached, look-ups are not throttled (and a warning
  is logged): a Redis hiccup must not break invite links.

The confirm-and-accept step (``/invite/``) needs no throttle: its token comes
from the server-side session, where only a successful look-up puts it.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from allauth import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The windows' clock (tests move it).
clock = time.time


class WindowedCounter:
    """Counts per address in windows of the clock, in Django's cache.

    ``limit`` and ``window`` name settings, read on every call (so a changed
    setting applies at once). The key of a count holds the window's number,
    so a new window starts at zero without anything being reset. If the cache
    cannot be reached, nothing is counted or refused (a warning says so).
    """

    def __init__(self, prefix: str, *, limit: str, window: str, what: str) -> None:
        self.prefix = prefix
        self.limit_setting = limit
        self.window_setting = window
        self.what = what  # for the logs: "invite throttle", "guest throttle"

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting))

    @property
    def length(self) -> int:
        return int(getattr(settings, self.window_setting))

    def window(self, now: float | None = None) -> tuple[int, int]:
        """The current window's number and the seconds left in it."""
        now = clock() if now is None else now
        number = int(now // self.length)
        return number, max(1, math.ceil((number + 1) * self.length - now))

    def key(self, address: str, window: int) -> str:
        return f"{self.prefix}:{window}:{address}"

    def throttled_for(self, address: str, now: float | None = None) -> int:
        """Seconds until ``address`` is under the limit again; 0 if it is now."""
        window, left = self.window(now)
        try:
            count = cache.get(self.key(address, window), 0)
        except (RedisError, OSError) as exc:
            logger.warning("%s: cache unreachable (%s), not throttling", self.what, exc)
            return 0
        return left if count >= self.limit else 0

    def record(self, address: str, now: float | None = None) -> int:
        """Count one more for ``address``; returns the window's count (0 when
        the cache cannot be reached)."""
        window, _left = self.window(now)
        key = self.key(address, window)
        try:
            # The key outlives its window, so it never expires between add and incr.
            cache.add(key, 0, timeout=self.length + 1)
            return int(cache.incr(key))
        except (RedisError, OSError) as exc:
            logger.warning("%s: cache unreachable (%s), not counting", self.what, exc)
            return 0


invite_guesses = WindowedCounter(
    "invite-guesses",
    limit="INVITE_GUESS_LIMIT",
    window="INVITE_GUESS_WINDOW",
    what="invite throttle",
)


def client_address(request: HttpRequest) -> str:
    """The address failed look-ups are counted against (see the module)."""
    try:
        ip = get_adapter(request).get_client_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        # No address at all, or fewer X-Forwarded-For entries than trusted
        # proxies: count against what the socket says.
        ip = request.META.get("REMOTE_ADDR") or "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return str(ip)
    if isinstance(address, ipaddress.IPv6Address):
        prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False).network_address)
    return str(address)


def throttled_for(address: str, now: float | None = None) -> int:
    """Seconds until ``address`` may look up invites again; 0 if it may now."""
    return invite_guesses.throttled_for(address, now)


def failure_record(address: str, now: float | None = None) -> int:
    """Count one failed look-up from ``address``; returns the window's count."""
    failures = invite_guesses.record(address, now)
    if failures:
        # Never the token: the address and the count say all that is needed.
        logger.info("invite look-up failed address=%s failures=%d", address, failures)
    if failures == settings.INVITE_GUESS_LIMIT:
        logger.warning("invite look-ups throttled address=%s after %d failures", address, failures)
    return failures


def throttled_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(
        request,
        "rooms/invite_throttled.html",
        {"minutes": math.ceil(retry_after / 60)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    # The URL still carries a token (perhaps a valid one).
    response["Referrer-Policy"] = "no-referrer"
    return response


def throttle_invite_guesses(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wrap the invite-link view: refuse an address over the limit before the
    token is looked at, and count each 404 the view answers as a failed guess."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = client_address(request)
        retry_after = throttled_for(address)
        if retry_after:
            return throttled_response(request, retry_after)
        response = view(request, *args, **kwargs)
        if response.status_code == 404:
            failure_record(address)
        return response

    return wrapped


# --- Guest creation -------------------------------------------------------------------
# The same windows of the clock, for a different count: guests created per
# address. At most ``GUEST_CREATE_LIMIT`` per ``GUEST_CREATE_WINDOW`` seconds;
# over it, the guest form answers 429 until the window ends. Every guest is a
# use of an invite and a seat-sized load on the call, so one address cannot
# fill a room (or the database) with names.

guest_creations = WindowedCounter(
    "guest-creations",
    limit="GUEST_CREATE_LIMIT",
    window="GUEST_CREATE_WINDOW",
    what="guest throttle",
)


def guest_throttled_for(address: str, now: float | None = None) -> int:
    """Seconds until ``address`` may create a guest again; 0 if it may now."""
    return guest_creations.throttled_for(address, now)


def guest_created_record(address: str, now: float | None = None) -> int:
    """Count one guest created from ``address``; returns the window's count."""
    created = guest_creations.record(address, now)
    if created == settings.GUEST_CREATE_LIMIT:
        logger.warning("guest creation throttled address=%s after %d guests", address, created)
    return created


def guest_throttled_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(
        request,
        "rooms/guest_throttled.html",
        {"minutes": math.ceil(retry_after / 60)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response
