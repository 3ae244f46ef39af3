"""Reactions and raised hands, peer to peer on the chat channel."""

from playwright.sync_api import expect

from tests.browser.calls import (
    REMOTE_TILES,
    make_room,
    start_call,
    tile,
    wait_for_new_peer,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV


def expect_hands(page, names):
    expect(page.locator("#hands-list .hands__name")).to_have_text(names)


def react(page, emoji):
    page.click("#ctl-react")
    page.click(f'#reaction-picker [data-emoji="{emoji}"]')


def test_hands_queue_in_order_and_a_host_lowers_one_reactions_show_on_the_sender(
    call_server, new_context, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    people = start_call(new_context, call_server, room, [minji, alex, sora])
    host, first, second = (p.page for p in people)
    for page in (host, first, second):
        wait_for_peers(page, 2)

    first.click("#ctl-hand")
    expect_hands(host, ["1. Alex"])
    second.click("#ctl-hand")
    for page, names in (
        (host, ["1. Alex", "2. Sora"]),
        (first, ["1. Alex (you)", "2. Sora"]),
        (second, ["1. Alex", "2. Sora (you)"]),
    ):
        expect_hands(page, names)
    expect(tile(host, "Alex")).to_have_attribute("data-hand", "true")
    expect(first.locator("#ctl-hand")).to_have_attribute("aria-pressed", "true")
    # Hosts may lower anyone's hand; others only their own.
    expect(host.locator("#hands-list .hands__lower")).to_have_count(2)
    expect(first.locator("#hands-list .hands__lower")).to_have_count(1)

    host.locator('#hands-list [aria-label="Lower Alex\'s hand"]').click()
    expect(first.locator("#banner")).to_contain_text("민지 lowered your hand.")
    expect(first.locator("#ctl-hand")).to_have_attribute("aria-pressed", "false")
    for page, names in ((host, ["1. Sora"]), (first, ["1. Sora"]), (second, ["1. Sora (you)"])):
        expect_hands(page, names)
    expect(tile(host, "Alex")).to_have_attribute("data-hand", "false")

    second.click("#ctl-hand")
    for page in (host, first, second):
        expect(page.locator("#hands")).to_be_hidden()

    react(first, "👏")
    for page in (host, second):
        expect(tile(page, "Alex").locator(".tile__reaction")).to_have_text("👏")
    expect(first.locator(".tile[data-self] .tile__reaction")).to_have_text("👏")
    # A few seconds later it is gone.
    tile(host, "Alex").locator(".tile__reaction").wait_for(state="detached")
    for person in people:
        assert person.context.errors == []


def test_hands_and_reactions_survive_a_signaling_outage(start_server, new_context, make_user):
    server = start_server(CALL_TEST_ENV)
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    host, guest = (p.page for p in start_call(new_context, server, room, [minji, alex]))
    for page in (host, guest):
        wait_for_peers(page, 1)
    guest.click("#ctl-hand")
    expect_hands(host, ["1. Alex"])
    old_id = host.locator(REMOTE_TILES).get_attribute("data-peer-id")

    server.stop()
    for page in (host, guest):
        expect(page.locator("#banner")).to_contain_text("Reconnecting")
    # The server is away; the pair is not: a reaction still arrives.
    react(guest, "🎉")
    expect(tile(host, "Alex").locator(".tile__reaction")).to_have_text("🎉")

    start_server(CALL_TEST_ENV, port=server.port)
    # A new peer id: every pair starts over, and the hand comes back with it.
    wait_for_new_peer(host, old_id)
    expect_hands(host, ["1. Alex"])
    expect(tile(host, "Alex")).to_have_attribute("data-hand", "true")
    expect_hands(guest, ["1. Alex (you)"])
    react(guest, "👍")
    expect(tile(host, "Alex").locator(".tile__reaction")).to_have_text("👍")
