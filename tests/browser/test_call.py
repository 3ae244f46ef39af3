"""Calls between real Chromium pages: joining, media flowing, room full."""

from tests.browser.calls import (
    REMOTE_TILES,
    assert_media_flowing,
    make_room,
    open_call,
    start_call,
    wait_for_peers,
)


def test_two_people_see_and_hear_each_other(call_server, new_context, make_user):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    people = start_call(new_context, call_server, room, [minji, alex])
    for person in people:
        wait_for_peers(person.page, 1)
    for person in people:
        assert_media_flowing(person.page, peers=1)
    first, second = people[0].page, people[1].page
    assert first.locator(f"{REMOTE_TILES} .tile__name").inner_text() == "Alex"
    assert second.locator(f"{REMOTE_TILES} .tile__name").inner_text() == "민지"
    # Every step of call setup is marked for the benchmark.
    marks = second.evaluate(
        "() => performance.getEntriesByType('mark')"
        ".map((m) => m.name.split(':').slice(0, 2).join(':'))"
    )
    for step in (
        "meet:join-click",
        "meet:ws-open",
        "meet:welcome",
        "meet:offer-sent",
        "meet:answer",
        "meet:ice-connected",
        "meet:first-frame",
    ):
        assert step in marks
    for person in people:
        assert person.context.errors == []


def test_four_people_all_twelve_streams_flow_and_a_fifth_is_refused(
    call_server, new_context, make_user
):
    users = [make_user(name) for name in ("minji", "alex", "sora", "jun", "hana")]
    room = make_room(users[0], members=users[1:])
    people = start_call(new_context, call_server, room, users[:4])
    for person in people:
        wait_for_peers(person.page, 3, timeout=30_000)
    for person in people:
        assert_media_flowing(person.page, peers=3, timeout=20_000)

    fifth = open_call(new_context(call_server, users[4]), room)
    fifth.click("#join-button")
    error = fifth.locator("#prejoin-error")
    error.wait_for()
    assert "full" in error.inner_text()
    assert fifth.locator("#join-button").inner_text() == "Try again"
    assert fifth.locator("#incall").is_hidden()
    # Nobody in the call saw the refused person.
    for person in people:
        assert person.page.locator(REMOTE_TILES).count() == 3
