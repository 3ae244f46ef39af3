"""A real-browser call on two daphne processes through a Redis Sentinel
failover: the primary is killed mid-call, Sentinel promotes the replica, and
the call does not notice. Media never stops, nobody is dropped, a newcomer
gets in within 10 s of the promotion, and the room page counts everyone."""

from __future__ import annotations

import time

import pytest
import redis
from playwright.sync_api import expect

from signaling.live import participant_counts
from tests.browser.calls import (
    WATCH_FRAMES,
    WATCHED,
    Person,
    join,
    make_room,
    open_call,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV
from tests.sentinel import MASTER, SentinelSetup, wait_sync

pytestmark = [pytest.mark.redis, pytest.mark.multiprocess]

NEWCOMER_WITHIN_MS = 10_000


def master_port(setup: SentinelSetup) -> int:
    with redis.Redis(port=setup.sentinel.port, decode_responses=True) as client:
        _host, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
    return int(port)


def test_a_browser_call_survives_a_sentinel_failover_and_a_newcomer_gets_in(
    sentinel_setup: SentinelSetup, start_server, new_context, make_user, settings
):
    env = {**CALL_TEST_ENV, **sentinel_setup.env()}
    servers = [start_server(env), start_server(env)]
    # The room page's count, read here the way the site reads it.
    settings.REDIS_URL = ""
    settings.REDIS_SENTINELS = [("127.0.0.1", sentinel_setup.sentinel.port)]
    settings.REDIS_SENTINEL_MASTER = MASTER
    users = [make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora", "Sora")]
    room = make_room(users[0], members=users[1:])
    people = []
    for index, user in enumerate(users[:2]):  # one on each process
        context = new_context(servers[index], user)
        page = open_call(context, room)
        join(page)
        people.append(Person(user, context, page))
    for person in people:
        wait_for_peers(person.page, 1, timeout=20_000)
        assert person.page.evaluate(WATCH_FRAMES) == 1
    assert participant_counts([room.pk]) == {room.pk: 2}

    sentinel_setup.primary.kill()
    wait_sync(
        lambda: master_port(sentinel_setup) == sentinel_setup.replica.port,
        "Sentinel never promoted the replica",
        within=30,
    )
    promoted = time.monotonic()

    # A newcomer, on the second process, gets in and sees both.
    context = new_context(servers[1], users[2])
    page = open_call(context, room)
    join(page)
    newcomer = Person(users[2], context, page)
    remaining = NEWCOMER_WITHIN_MS - (time.monotonic() - promoted) * 1000
    wait_for_peers(page, 2, timeout=max(remaining, 1))
    for person in people:
        wait_for_peers(person.page, 2, timeout=20_000)

    for person in people:
        watched = person.page.evaluate(WATCHED)
        assert watched["open"] == 1, watched  # the pair from before is still up
        assert watched["created"] == 1, watched  # only the newcomer's pair is new
        assert watched["worst"] < 1000, watched  # video never stalled for a second
        expect(person.page.locator("#banner")).not_to_contain_text("Reconnecting")
    assert participant_counts([room.pk]) == {room.pk: 3}
    for person in (*people, newcomer):
        assert [e for e in person.context.errors if "WebSocket" not in e] == []
