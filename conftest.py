"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sentinel import SentinelSetup, sentinel_trio
from tests.servers import ROOT, RedisServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: once Playwright has started, its event loop stays
    running in the main thread for the rest of the session."""
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


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


@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[SentinelSetup]:
    """A Redis primary, its replica and a Sentinel watching them (tests/sentinel.py)."""
    with sentinel_trio(tmp_path) as setup:
        yield setup
