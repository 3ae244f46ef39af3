"""participant_counts(): the synchronous read the admin and room pages use."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from redis import RedisError

from signaling import live, presence
from signaling.presence import Entry


def seat(room_id: int, peer: str, user: int) -> None:
    entry = Entry(peer=peer, user=user, channel=f"specific.x!{peer}", name="n", host=False)
    result = async_to_sync(presence.get_presence().join)(room_id, entry, 4, 30.0)
    assert result.admitted


def test_counts_in_process(settings):
    settings.REDIS_URL = ""
    presence._memory.clear()
    seat(1, "a", 1)
    seat(1, "b", 2)
    seat(2, "c", 3)
    assert live.participant_counts([1, 2, 3]) == {1: 2, 2: 1}
    assert live.participant_counts([]) == {}
    presence._memory.clear()


@pytest.mark.redis
def test_counts_in_redis(settings, redis_url: str):
    settings.REDIS_URL = redis_url
    seat(10, "a", 1)
    seat(11, "b", 2)
    seat(11, "c", 3)
    assert live.participant_counts(iter([10, 11, 12])) == {10: 1, 11: 2}


def test_redis_down_counts_as_nobody(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert live.participant_counts([1]) == {}


def test_live_call_names_the_acting_host_or_the_hosts_present(settings):
    settings.REDIS_URL = ""
    presence._memory.clear()
    assert live.live_call(5) == live.LiveCall(0, None, [])
    seat(5, "a", 1)
    seat(5, "b", 2)
    assert live.live_call(5) == live.LiveCall(2, "n", [])
    host = Entry(peer="h", user=3, channel="specific.x!h", name="민지", host=True)
    async_to_sync(presence.get_presence().join)(5, host, 4, 30.0)
    assert live.live_call(5) == live.LiveCall(3, None, ["민지"])
    presence._memory.clear()


@pytest.mark.redis
def test_live_call_in_redis(settings, redis_url: str):
    settings.REDIS_URL = redis_url
    seat(12, "a", 1)
    seat(12, "b", 2)
    assert live.live_call(12) == live.LiveCall(2, "n", [])


def test_redis_down_means_nobody_in_the_call(monkeypatch):
    class Down:
        def entries_sync(self, room_id: int) -> list[Entry]:
            raise RedisError("down")

    monkeypatch.setattr(live, "get_presence", Down)
    assert live.live_call(1) == live.LiveCall(0, None, [])
