"""One call across two daphne processes sharing a real Redis."""

import pytest

from tests.browser.calls import (
    Person,
    assert_media_flowing,
    join,
    make_room,
    open_call,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV

pytestmark = [pytest.mark.redis, pytest.mark.multiprocess]


def test_participants_on_different_processes_share_one_call(
    redis_url, start_server, new_context, make_user
):
    env = {**CALL_TEST_ENV, "REDIS_URL": redis_url}
    servers = [start_server(env), start_server(env)]
    users = [make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora", "Sora")]
    room = make_room(users[0], members=users[1:])
    people = []
    for index, user in enumerate(users):
        context = new_context(servers[index % 2], user)
        page = open_call(context, room)
        join(page)
        people.append(Person(user, context, page))
    for person in people:
        wait_for_peers(person.page, 2, timeout=20_000)
    for person in people:
        assert_media_flowing(person.page, peers=2, timeout=20_000)
