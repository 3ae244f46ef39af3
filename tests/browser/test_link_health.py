"""Link health per pair and the active speaker, in real calls."""

import re

from playwright.sync_api import expect

from tests.browser.calls import make_room, start_call, tile, wait_for_peers
from tests.browser.test_relay import SECRET, relay_env
from tests.browser.test_relay import coturn as coturn  # the fixture


def badge(page, name):
    return tile(page, name).locator(".tile__link")


def open_details(page, name):
    """Open a pair's details with the keyboard, as a person without a mouse would."""
    button = badge(page, name)
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#link-details")
    expect(dialog).to_be_visible()
    return dialog


def figure(page, field):
    return page.locator(f'#link-details-figures dd[data-field="{field}"]')


def test_clean_call_badges_read_good_and_details_show_the_direct_path(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    first, second = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    for page in (first, second):
        wait_for_peers(page, 1)
    for page, other in ((first, "Alex"), (second, "민지")):
        expect(badge(page, other)).to_have_attribute("data-grade", "good", timeout=10_000)
        expect(badge(page, other)).to_have_text("Good")
        expect(badge(page, other)).to_have_attribute(
            "aria-label", f"Connection with {other}: Good. Show details"
        )
    # Our own tile has no badge.
    expect(first.locator(".tile[data-self] .tile__link")).to_be_hidden()

    dialog = open_details(first, "Alex")
    expect(first.locator("#link-details-title")).to_have_text("Connection with Alex")
    expect(first.locator("#link-details-figures")).to_have_attribute("data-path", "host")
    expect(figure(first, "path")).to_have_text("Direct (host) · UDP")
    expect(figure(first, "grade")).to_have_text("Good")
    expect(figure(first, "rtt")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(figure(first, "loss")).to_have_text("0%")
    expect(figure(first, "in")).to_have_text(re.compile(r"^[\d,]+ kbit/s$"))
    expect(figure(first, "fps")).to_have_text(re.compile(r"^\d+ frames/s$"))
    # Escape closes it and gives the focus back to the badge.
    first.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(badge(first, "Alex")).to_be_focused()
    for page in (first, second):
        assert page.context.errors == []  # type: ignore[attr-defined]


def test_relay_only_pair_shows_the_relay_path(coturn, start_server, new_context, make_user):
    server = start_server(relay_env(coturn, SECRET))
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    first, second = (p.page for p in start_call(new_context, server, room, [minji, alex]))
    for page in (first, second):
        wait_for_peers(page, 1, timeout=20_000)
    expect(badge(second, "민지")).to_have_attribute("data-grade", "good", timeout=10_000)
    open_details(second, "민지")
    expect(second.locator("#link-details-figures")).to_have_attribute("data-path", "relay")
    expect(figure(second, "path")).to_have_text("Through the relay server (relay) · UDP")
    # The figures follow the pair while the dialog is open.
    expect(figure(second, "rtt")).to_have_text(re.compile(r"^\d+ ms$"))


def test_the_one_person_speaking_is_highlighted_on_every_page(call_server, new_context, make_user):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    people = start_call(new_context, call_server, room, [minji, alex, sora])
    pages = [person.page for person in people]
    for page in pages:
        wait_for_peers(page, 2, timeout=20_000)
    # Chromium's fake microphone beeps: only Alex keeps it on.
    for page in (pages[0], pages[2]):
        page.click("#ctl-mic")
        expect(page.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    speaking = ".tile[data-speaking='true']"
    for page in (pages[0], pages[2]):
        expect(tile(page, "Alex")).to_have_attribute("data-speaking", "true", timeout=10_000)
        expect(page.locator(speaking)).to_have_count(1)
    # On Alex's own page, it is Alex's own tile.
    expect(pages[1].locator(".tile[data-self]")).to_have_attribute(
        "data-speaking", "true", timeout=10_000
    )
    expect(pages[1].locator(speaking)).to_have_count(1)
    # Alex mutes too: nobody is highlighted any more.
    pages[1].click("#ctl-mic")
    for page in pages:
        expect(page.locator(speaking)).to_have_count(0, timeout=10_000)
