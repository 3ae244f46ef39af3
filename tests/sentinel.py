"""A real Redis primary, its replica and a Sentinel watching them, for the
tests that put a call through a failover (multi-process and browser)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
import redis.asyncio as aioredis

from tests.servers import RedisServer, SentinelServer

MASTER = "meet"


def wait_sync(check: Callable[[], bool], what: str, within: float = 20.0) -> None:
    """Poll ``check`` until it holds (fixtures, before any socket is open)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def replication_up(replica: RedisServer) -> bool:
    with redis.Redis(port=replica.port, decode_responses=True) as client:
        return client.info("replication").get("master_link_status") == "up"


def sentinel_knows_replica(sentinel: SentinelServer, replica: RedisServer) -> bool:
    with redis.Redis(port=sentinel.port, decode_responses=True) as client:
        replicas = client.execute_command("SENTINEL", "REPLICAS", MASTER)
    for item in replicas:
        info = item if isinstance(item, dict) else dict(zip(item[::2], item[1::2], strict=True))
        if int(info["port"]) == replica.port and info["flags"] == "slave":
            return True
    return False


@dataclass
class SentinelSetup:
    primary: RedisServer
    replica: RedisServer
    sentinel: SentinelServer

    def env(self) -> dict[str, str]:
        return {"REDIS_SENTINELS": self.sentinel.address, "REDIS_SENTINEL_MASTER": MASTER}

    async def master_port(self) -> int:
        client = aioredis.Redis(port=self.sentinel.port, decode_responses=True)
        try:
            _host, port = await client.execute_command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER
            )
        finally:
            await client.aclose()
        return int(port)


@contextlib.contextmanager
def sentinel_trio(tmp_path: Path) -> Iterator[SentinelSetup]:
    """A primary, a replica of it, and a Sentinel watching them, on free
    loopback ports; everything in ``tmp_path``, everything stopped after."""
    primary = RedisServer(tmp_path / "primary")
    with primary:
        replica = RedisServer(tmp_path / "replica", replica_of=primary.port)
        with replica:
            wait_sync(lambda: replication_up(replica), "the replica never synced")
            sentinel = SentinelServer(tmp_path / "sentinel", master_port=primary.port)
            with sentinel:
                wait_sync(
                    lambda: sentinel_knows_replica(sentinel, replica),
                    "the Sentinel never saw the replica",
                )
                yield SentinelSetup(primary, replica, sentinel)
