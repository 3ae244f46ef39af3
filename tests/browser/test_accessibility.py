"""Accessibility: axe-core on every kind of page in both colour schemes, and a
call done with the keyboard alone.

axe-core comes from the npm registry (package.json, installed by
``make install-dev``) and is injected as an init script, which the pages'
Content-Security-Policy does not apply to.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.calls import REMOTE_TILES, join, make_room, open_call, tile, wait_for_peers

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SCHEMES = ("light", "dark")

# Violations people cannot work around; "moderate" and "minor" are advice.
RUN_AXE = """async () => {
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({
            id: v.id,
            impact: v.impact,
            nodes: v.nodes.slice(0, 5).map((n) => [n.target.join(' '), n.failureSummary]),
        }));
}"""


def with_axe(context: BrowserContext) -> BrowserContext:
    assert AXE.exists(), "axe-core is missing: run `make install-dev`"
    context.add_init_script(path=str(AXE))
    return context


def violations(page: Page, name: str) -> list[tuple[str, str, list]]:
    """Serious and critical violations of the page as it is now, in both schemes."""
    found = []
    for scheme in SCHEMES:
        # Without motion the new scheme's colours apply at once (buttons
        # would otherwise still be fading from the old ones).
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        found += [(name, scheme, v) for v in page.evaluate(RUN_AXE)]
    page.emulate_media(color_scheme="light")
    return found


def test_every_page_has_no_serious_accessibility_violation_in_either_theme(
    call_server, new_context, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora")
    room = make_room(minji, "Weekly sync", members=[alex, sora], max_participants=2)
    found = []

    anonymous = with_axe(new_context(call_server)).new_page()
    for name, url in (("landing", "/"), ("signup", "/accounts/signup/")):
        anonymous.goto(url)
        found += violations(anonymous, name)

    host = with_axe(new_context(call_server, minji))
    pages = host.new_page()
    for name, url in (
        ("dashboard", "/dashboard/"),
        ("room", room.get_absolute_url()),
        ("delete meeting", f"{room.get_absolute_url()}delete/"),
    ):
        pages.goto(url)
        found += violations(pages, name)

    first = open_call(host, room)
    found += violations(first, "pre-join")
    join(first)
    second = open_call(with_axe(new_context(call_server, alex)), room)
    join(second)
    wait_for_peers(first, 1)
    found += violations(first, "in-call")
    first.click("#ctl-chat")
    first.fill("#chat-input", "안녕하세요")
    first.press("#chat-input", "Enter")
    found += violations(first, "in-call with chat")

    full = open_call(with_axe(new_context(call_server, sora)), room)
    full.click("#join-button")
    expect(full.locator("#prejoin-error")).to_contain_text("full")
    found += violations(full, "room full")

    second.click("#ctl-leave")
    expect(second.locator("#ended-title")).to_have_text("You left the call.")
    found += violations(second, "you left")
    assert found == []


def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(presses):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus")


def test_a_whole_call_with_the_keyboard_alone(call_server, new_context, make_user):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    other = open_call(new_context(call_server, alex), room)
    join(other)
    page = open_call(new_context(call_server, minji), room)

    # The Join button has the focus as soon as it is ready.
    expect(page.locator("#join-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#incall")).to_be_visible()
    wait_for_peers(page, 1)
    seen = tile(other, "민지")
    expect(seen).to_have_attribute("role", "region")
    expect(seen).to_have_attribute("aria-label", "민지")

    tab_to(page, "#ctl-mic")
    page.keyboard.press("Space")
    expect(page.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    tab_to(page, "#ctl-camera")
    page.keyboard.press("Enter")
    expect(page.locator("#ctl-camera")).to_have_attribute("aria-pressed", "true")
    # The others hear of it, and the tile says so in words.
    expect(seen).to_have_attribute("aria-label", "민지, Microphone off, Camera off")

    tab_to(page, "#ctl-chat")
    page.keyboard.press("Enter")
    expect(page.locator("#chat-input")).to_be_focused()
    page.keyboard.type("키보드로 보냈어요")
    page.keyboard.press("Enter")
    expect(other.locator("#chat-log .chat-message__text")).to_have_text(["키보드로 보냈어요"])
    # One unread message, in words, on the other side's chat control.
    unread = "Open chat (1 unread message)"
    expect(other.locator("#ctl-chat")).to_have_attribute("aria-label", unread)

    tab_to(page, "#ctl-leave")
    page.keyboard.press("Enter")
    expect(page.locator("#ended-title")).to_have_text("You left the call.")
    expect(page.locator("#ended-rejoin")).to_be_focused()
    expect(other.locator(REMOTE_TILES)).to_have_count(0)
    assert page.context.errors == []


def test_waiting_for_others_is_text_and_tiles_name_their_state(call_server, new_context, make_user):
    minji = make_user("minji", "민지")
    page = open_call(new_context(call_server, minji, locale="ko-KR"), make_room(minji))
    join(page)
    waiting = page.locator("#waiting")
    expect(waiting).to_be_visible()
    expect(waiting).to_have_text("다른 사람이 참여하기를 기다리는 중…")
    expect(page.get_by_role("region", name="민지 (나)")).to_be_visible()
