"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.servers import ROOT, RedisServer


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Logs, screenshots and scratch files of this test run (kept for CI to show)."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def redis_server(artifacts_dir: Path):
    """A private redis-server for this test session, never the machine's own."""
    with RedisServer(artifacts_dir / "redis") as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The private Redis, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


def database_url_for_subprocess() -> str:
    """DATABASE_URL pointing a child process at the test database pytest-django made."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    host = conf["HOST"] or conf.get("OPTIONS", {}).get("host", "")
    auth = ""
    if conf["USER"]:
        auth = quote(conf["USER"], safe="")
        if conf["PASSWORD"]:
            auth += ":" + quote(conf["PASSWORD"], safe="")
        auth += "@"
    port = f":{conf['PORT']}" if conf["PORT"] else ""
    return f"postgres://{auth}{quote(host, safe='')}{port}/{conf['NAME']}"
