"""Where the shared Redis is, and how every part of the server reaches it.

The channel layer, presence and the Django cache must all talk to the same
Redis, or a failover would leave them on different machines. This module
builds all three from one description, read from the environment:

- ``REDIS_URL``: one Redis (``redis://host:6379/0``), or
- ``REDIS_SENTINELS`` (``host:port,host:port``) and ``REDIS_SENTINEL_MASTER``
  (the name Sentinel monitors), with optional ``REDIS_PASSWORD`` (the
  primary's), ``REDIS_SENTINEL_PASSWORD`` (the Sentinels') and ``REDIS_DB``.
  Every connection asks the Sentinels which server is the primary, and asks
  again after a failover.

Every connection retries a failed command (connection refused or lost, the
primary demoted to a replica, a timeout) with a short, jittered backoff for
about ``RETRY_SECONDS`` before the error reaches the caller: a failover in
progress delays a relayed message or a presence refresh, it does not fail it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
import redis.asyncio as aioredis
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import EqualJitterBackoff
from redis.retry import Retry as SyncRetry

# A failed command is tried again for up to RETRY_SECONDS; the pause between
# attempts doubles from RETRY_BASE up to RETRY_CAP (seconds, half of it random).
RETRY_SECONDS = 8.0
RETRY_BASE = 0.05
RETRY_CAP = 0.5
# A server that does not answer a connection attempt within this is down (seconds).
CONNECT_TIMEOUT = 2.0

T = TypeVar("T")


class AsyncRetryFor(AsyncRetry):
    """redis-py's retry, bounded by time rather than by a count of attempts:
    the connection attempt inside a command retries too, and counts would
    multiply, where deadlines only add up."""

    def __init__(self, seconds: float = RETRY_SECONDS) -> None:
        super().__init__(EqualJitterBackoff(cap=RETRY_CAP, base=RETRY_BASE), retries=1000)
        self.seconds = seconds

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        deadline = time.monotonic() + self.seconds
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return await do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                await (fail(error, failures) if with_failure_count else fail(error))
                pause = self._backoff.compute(failures)
                if time.monotonic() + pause > deadline:
                    raise
                await asyncio.sleep(pause)


class RetryFor(SyncRetry):
    """``AsyncRetryFor`` for the synchronous client (pages, the cache)."""

    def __init__(self, seconds: float = RETRY_SECONDS) -> None:
        super().__init__(EqualJitterBackoff(cap=RETRY_CAP, base=RETRY_BASE), retries=1000)
        self.seconds = seconds

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        deadline = time.monotonic() + self.seconds
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                if with_failure_count:
                    fail(error, failures)
                else:
                    fail(error)
                pause = self._backoff.compute(failures)
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)


@dataclass(frozen=True)
class RedisConfig:
    """One Redis, by URL or through Sentinel. Empty: none (everything in-process)."""

    url: str = ""
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    password: str = field(default="", repr=False)
    sentinel_password: str = field(default="", repr=False)
    db: int = 0

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise ImproperlyConfigured(problem)

    def problem(self) -> str:
        """What is wrong with this description, or ``""``."""
        if self.url and (self.sentinels or self.master):
            return "Set either REDIS_URL or REDIS_SENTINELS with REDIS_SENTINEL_MASTER, not both."
        if self.sentinels and not self.master:
            return (
                "REDIS_SENTINELS is set but REDIS_SENTINEL_MASTER is not: "
                "name the primary the Sentinels monitor (their `sentinel monitor <name> ...`)."
            )
        if self.master and not self.sentinels:
            return (
                "REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not: "
                "list the Sentinels as host:port,host:port."
            )
        if not self.sentinels and (self.password or self.sentinel_password or self.db):
            return (
                "REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD and REDIS_DB apply to Sentinel only; "
                "with REDIS_URL put the password and database in the URL "
                "(redis://:password@host:6379/0)."
            )
        if self.db < 0:
            return "REDIS_DB must be a database number (0 or more)."
        return ""

    @property
    def configured(self) -> bool:
        return bool(self.url or self.sentinels)

    @property
    def uses_sentinel(self) -> bool:
        return bool(self.sentinels)

    def describe(self) -> str:
        """For logs and the cache's LOCATION: where, never the password."""
        if self.sentinels:
            hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"sentinel://{hosts}/{self.master}/{self.db}"
        return self.url

    # --- Connection options --------------------------------------------------------

    def connection_options(self, *, sync: bool = False) -> dict[str, Any]:
        """Keyword arguments for every connection to the primary."""
        options: dict[str, Any] = {
            "retry": RetryFor() if sync else AsyncRetryFor(),
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_keepalive": True,
        }
        if self.sentinels:
            options["db"] = self.db
            if self.password:
                options["password"] = self.password
        return options

    def sentinel_options(self) -> dict[str, Any]:
        """Keyword arguments for the connections to the Sentinels themselves."""
        options: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT}
        if self.sentinel_password:
            options["password"] = self.sentinel_password
        return options

    # --- The three users -----------------------------------------------------------

    def channel_layer_host(self, **extra: Any) -> dict[str, Any]:
        """The one ``hosts`` entry for either channels-redis layer."""
        if self.sentinels:
            return {
                "sentinels": list(self.sentinels),
                "master_name": self.master,
                "sentinel_kwargs": self.sentinel_options(),
                **self.connection_options(),
                **extra,
            }
        return {"address": self.url, **self.connection_options(), **extra}

    def cache(self) -> dict[str, Any]:
        """``CACHES["default"]`` on this Redis."""
        if not self.sentinels:
            return {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": self.url,
                "OPTIONS": self.connection_options(sync=True),
            }
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Django wants a location; the pool below ignores it.
            "LOCATION": self.describe(),
            "OPTIONS": {
                "pool_class": "meet.redisconf.SentinelCachePool",
                "sentinels": list(self.sentinels),
                "master_name": self.master,
                "sentinel_kwargs": self.sentinel_options(),
                **self.connection_options(sync=True),
            },
        }

    def async_client(self, **options: Any) -> aioredis.Redis:
        """A redis.asyncio client on the primary (bound to the running loop once used)."""
        if self.sentinels:
            sentinel = aioredis.Sentinel(
                list(self.sentinels), sentinel_kwargs=self.sentinel_options()
            )
            return sentinel.master_for(
                self.master, redis_class=aioredis.Redis, **self.connection_options(), **options
            )
        return aioredis.Redis.from_url(self.url, **self.connection_options(), **options)

    def sync_client(self, **options: Any) -> redis.Redis:
        """A synchronous client on the primary (pages, the admin)."""
        if self.sentinels:
            sentinel = redis.Sentinel(list(self.sentinels), sentinel_kwargs=self.sentinel_options())
            return sentinel.master_for(
                self.master,
                redis_class=redis.Redis,
                **self.connection_options(sync=True),
                **options,
            )
        return redis.Redis.from_url(self.url, **self.connection_options(sync=True), **options)


class SentinelCachePool(redis.sentinel.SentinelConnectionPool):
    """Django's Redis cache builds its pool with ``pool_class.from_url(LOCATION,
    **OPTIONS)``; this one finds the primary through Sentinel instead."""

    @classmethod
    def from_url(  # type: ignore[override]
        cls,
        url: str,
        *,
        sentinels: list[tuple[str, int]],
        master_name: str,
        sentinel_kwargs: dict[str, Any],
        **options: Any,
    ) -> SentinelCachePool:
        manager = redis.Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs)
        return cls(master_name, manager, **options)


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """``host:port,host:port`` (IPv6 as ``[::1]:26379``) as (host, port) pairs."""
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"REDIS_SENTINELS has {item!r}; expected host:port, e.g. 10.0.0.5:26379."
            )
        found.append((host, int(port)))
    return tuple(found)


def from_env(environ: Mapping[str, str] = os.environ) -> RedisConfig:
    """The description the environment gives (``ImproperlyConfigured`` when half given)."""
    db = environ.get("REDIS_DB", "").strip()
    if db and not db.isdigit():
        raise ImproperlyConfigured(f"REDIS_DB must be a database number, not {db!r}.")
    return RedisConfig(
        url=environ.get("REDIS_URL", "").strip(),
        sentinels=parse_sentinels(environ.get("REDIS_SENTINELS", "")),
        master=environ.get("REDIS_SENTINEL_MASTER", "").strip(),
        password=environ.get("REDIS_PASSWORD", ""),
        sentinel_password=environ.get("REDIS_SENTINEL_PASSWORD", ""),
        db=int(db) if db else 0,
    )


def from_settings(settings: Any) -> RedisConfig:
    """The description in Django's settings (tests change ``REDIS_URL`` there)."""
    return RedisConfig(
        url=settings.REDIS_URL,
        sentinels=tuple(
            (str(host), int(port)) for host, port in getattr(settings, "REDIS_SENTINELS", ())
        ),
        master=getattr(settings, "REDIS_SENTINEL_MASTER", ""),
        password=getattr(settings, "REDIS_PASSWORD", ""),
        sentinel_password=getattr(settings, "REDIS_SENTINEL_PASSWORD", ""),
        db=getattr(settings, "REDIS_DB", 0),
    )
