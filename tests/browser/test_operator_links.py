"""Operators see the live call's links: each browser reports its pairs to
the server at a low rate (never relayed), and Django admin's room page shows
who is connected to whom, over which path, with round trip and loss."""

import re

from playwright.sync_api import expect

from tests.browser.calls import make_room, start_call, wait_for_peers
from tests.browser.conftest import CALL_TEST_ENV

# Report every second instead of every ten, so the test need not wait.
ENV = {**CALL_TEST_ENV, "SIGNALING_LINK_REPORT": "1"}


def test_django_admin_shows_who_is_connected_to_whom_and_how(
    start_server, new_context, make_user, django_user_model
):
    server = start_server(ENV)
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    people = start_call(new_context, server, room, [minji, alex])
    for person in people:
        wait_for_peers(person.page, 1)

    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    admin = new_context(server, staff).new_page()
    admin.goto(f"{server.url}/admin/rooms/room/{room.pk}/change/")
    table = admin.locator("table.live-links")
    # The page is a snapshot: reload until both sides have reported.
    for _ in range(40):
        if table.count() and table.locator("tbody tr").count() == 2:
            break
        admin.wait_for_timeout(500)  # a person pressing reload
        admin.reload()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    for reporter, peer in (("민지", "Alex"), ("Alex", "민지")):
        row = rows.filter(has=admin.locator("td:first-child", has_text=reporter))
        cells = row.locator("td")
        expect(cells.nth(1)).to_have_text(peer)
        expect(cells.nth(2)).to_have_text("host / udp")
        expect(cells.nth(3)).to_have_text(re.compile(r"^\d+ ms$"))
        expect(cells.nth(4)).to_have_text(re.compile(r"^\d+\.\d %$"))

    # Alex leaves: nothing of Alex's pairs stays.
    people[1].page.click("#ctl-leave")
    for _ in range(40):
        admin.reload()
        if "No links reported in the call right now." in admin.content():
            break
        admin.wait_for_timeout(500)
    expect(admin.locator("body")).to_contain_text("No links reported in the call right now.")
