"""The one description of the shared Redis (meet/redisconf.py): what the
environment may say, and what the channel layer, presence and cache get."""

from __future__ import annotations

import subprocess

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured

from meet import redisconf
from meet.settings import channel_layers_for
from signaling.presence import RedisPresence, get_presence
from tests.test_settings import in_child

SENTINEL_ENV = {"REDIS_SENTINELS": "10.0.0.5:26379, [::1]:26380", "REDIS_SENTINEL_MASTER": "meet"}


def test_sentinels_are_host_port_pairs():
    config = redisconf.from_env(SENTINEL_ENV)
    assert config.sentinels == (("10.0.0.5", 26379), ("::1", 26380))
    assert config.master == "meet"
    assert config.uses_sentinel


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"REDIS_SENTINELS": "10.0.0.5:26379"}, "REDIS_SENTINEL_MASTER is not"),
        ({"REDIS_SENTINEL_MASTER": "meet"}, "REDIS_SENTINELS is not"),
        ({**SENTINEL_ENV, "REDIS_URL": "redis://r:6379/0"}, "not both"),
        ({"REDIS_SENTINELS": "10.0.0.5", "REDIS_SENTINEL_MASTER": "m"}, "expected host:port"),
        ({"REDIS_SENTINELS": "h:99999", "REDIS_SENTINEL_MASTER": "m"}, "expected host:port"),
        ({**SENTINEL_ENV, "REDIS_DB": "one"}, "database number"),
        ({"REDIS_URL": "redis://r:6379/0", "REDIS_PASSWORD": "x"}, "put the password"),
    ],
)
def test_a_half_given_setup_is_refused_with_what_to_fix(env: dict[str, str], says: str):
    with pytest.raises(ImproperlyConfigured, match=says):
        redisconf.from_env(env)


def test_a_server_with_a_half_given_sentinel_setup_does_not_start():
    with pytest.raises(subprocess.CalledProcessError) as failed:
        in_child("pass", REDIS_SENTINELS="10.0.0.5:26379")
    assert "REDIS_SENTINEL_MASTER" in failed.value.stderr
    assert "Traceback" in failed.value.stderr  # ImproperlyConfigured, at startup


@pytest.mark.parametrize("layer", ["pubsub", "core"])
def test_both_channel_layers_follow_the_sentinels_primary(layer: str):
    config = redisconf.from_env({**SENTINEL_ENV, "REDIS_PASSWORD": "pw", "REDIS_DB": "2"})
    (host,) = channel_layers_for(config, layer, 86400)["default"]["CONFIG"]["hosts"]
    assert host["master_name"] == "meet"
    assert host["sentinels"] == [("10.0.0.5", 26379), ("::1", 26380)]
    assert (host["password"], host["db"]) == ("pw", 2)
    assert isinstance(host["retry"], redisconf.AsyncRetryFor)
    if layer == "core":
        assert host["socket_timeout"] == 30


def test_the_cache_and_presence_follow_the_same_sentinels(settings):
    config = redisconf.from_env({**SENTINEL_ENV, "REDIS_SENTINEL_PASSWORD": "spw"})
    cache = config.cache()
    assert cache["OPTIONS"]["pool_class"] == "meet.redisconf.SentinelCachePool"
    assert cache["OPTIONS"]["sentinels"] == [("10.0.0.5", 26379), ("::1", 26380)]
    assert cache["OPTIONS"]["sentinel_kwargs"]["password"] == "spw"
    assert "spw" not in cache["LOCATION"]
    settings.REDIS_URL = ""
    settings.REDIS_SENTINELS = list(config.sentinels)
    settings.REDIS_SENTINEL_MASTER = "meet"
    settings.REDIS_SENTINEL_PASSWORD = "spw"
    presence = get_presence()
    assert isinstance(presence, RedisPresence)
    assert presence.config == config


async def test_a_failing_command_is_retried_until_its_deadline_then_fails():
    attempts = 0

    async def refused() -> None:
        nonlocal attempts
        attempts += 1
        raise redis.ConnectionError("connection refused")

    async def reconnect(error: Exception) -> None:
        return None

    with pytest.raises(redis.ConnectionError):
        await redisconf.AsyncRetryFor(0.3).call_with_retry(refused, reconnect)
    assert attempts > 1


async def test_a_command_that_succeeds_on_a_later_attempt_returns_its_result():
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise redis.ConnectionError("failing over")
        return "PONG"

    async def reconnect(error: Exception) -> None:
        return None

    assert await redisconf.AsyncRetryFor(5).call_with_retry(flaky, reconnect) == "PONG"
    assert attempts == 3
