"""The call page at phone and desktop width, in English and Korean.

Screenshots go to test-artifacts/screenshots/layout-*.png for people to look
at; the assertions check what a screenshot would show broken: sideways
scrolling, controls off screen, tiles overlapping.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.calls import make_room, open_call, start_call, wait_for_peers

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

FITS = """() => {
    const root = document.scrollingElement;
    const controls = [...document.querySelectorAll('.controls button:not([hidden])')];
    const tiles = [...document.querySelectorAll('.tile')].map((t) => t.getBoundingClientRect());
    const apart = (a, b) => a.right - 1 <= b.left || b.right - 1 <= a.left
        || a.bottom - 1 <= b.top || b.bottom - 1 <= a.top;
    const overlap = tiles.some((a, i) => tiles.slice(i + 1).some((b) => !apart(a, b)));
    return {
        sideways: root.scrollWidth > window.innerWidth,
        controlsOff: controls.some((b) => {
            const r = b.getBoundingClientRect();
            return r.bottom > window.innerHeight || r.right > window.innerWidth || r.left < 0;
        }),
        overlap,
        tiny: tiles.some((r) => r.width < 100),
    };
}"""


# The settings dialog and every picker in it are inside the window.
DIALOG_FITS = """() => {
    const inside = (r) => r.left >= 0 && r.top >= 0
        && r.right <= window.innerWidth && r.bottom <= window.innerHeight;
    const dialog = document.getElementById('settings');
    const parts = [dialog, ...dialog.querySelectorAll('select, button')];
    return parts.every((el) => inside(el.getBoundingClientRect()))
        && document.scrollingElement.scrollWidth <= window.innerWidth;
}"""


def shoot(page: Page, artifacts_dir, name: str) -> None:
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=shots / f"layout-{name}.png")


def check_both_widths(page: Page, artifacts_dir, name: str, in_call: bool = True) -> None:
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # let the layout settle after the resize
        shoot(page, artifacts_dir, f"{name}-{label}")
        result = page.evaluate(FITS)
        assert not result["sideways"], (name, label)
        if in_call:
            assert result == {
                "sideways": False,
                "controlsOff": False,
                "overlap": False,
                "tiny": False,
            }, (name, label)
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("locale", ["en-US", "ko-KR"])
def test_call_layout_at_phone_and_desktop_width(
    locale, call_server, new_context, make_user, artifacts_dir
):
    lang = locale[:2]
    users = [make_user(name, display) for name, display in (
        ("minji", "김민지"), ("alex", "Alex Kim"), ("sora", "이소라"), ("jun", "Jun"),
        ("hana", "하나"),
    )]  # fmt: skip
    room = make_room(users[0], "주간 회의 · Weekly sync", members=users[1:])

    first = open_call(new_context(call_server, users[0], locale=locale), room)
    check_both_widths(first, artifacts_dir, f"{lang}-prejoin", in_call=False)
    first.click("#join-button")
    expect(first.locator("#incall")).to_be_visible()
    check_both_widths(first, artifacts_dir, f"{lang}-call-1")

    people = start_call(new_context, call_server, room, users[1:2], locale=locale)
    wait_for_peers(first, 1)
    check_both_widths(first, artifacts_dir, f"{lang}-call-2")

    people += start_call(new_context, call_server, room, users[2:4], locale=locale)
    wait_for_peers(first, 3, timeout=30_000)
    people[0].page.click("#ctl-hand")
    people[1].page.click("#ctl-mic")
    people[2].page.click("#ctl-camera")
    expect(first.locator('.tile[data-camera="false"]')).to_have_count(1)
    check_both_widths(first, artifacts_dir, f"{lang}-call-4")

    first.click("#ctl-settings")
    expect(first.locator("#settings")).to_be_visible()
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        first.set_viewport_size(size)
        first.wait_for_timeout(150)
        shoot(first, artifacts_dir, f"{lang}-settings-{label}")
        assert first.evaluate(DIALOG_FITS) is True, label
    first.keyboard.press("Escape")
    expect(first.locator("#settings")).to_be_hidden()
    first.set_viewport_size(DESKTOP)

    people[0].page.click("#ctl-chat")
    people[0].page.fill("#chat-input", "안녕하세요! Hello from Alex.")
    people[0].page.press("#chat-input", "Enter")
    first.click("#ctl-chat")
    expect(first.locator("#chat-log .chat-message")).to_have_count(1)
    first.fill("#chat-input", "<img src=x onerror=alert(1)> 반가워요")
    first.press("#chat-input", "Enter")
    check_both_widths(first, artifacts_dir, f"{lang}-chat")

    fifth = open_call(new_context(call_server, users[4], locale=locale), room)
    fifth.click("#join-button")
    expect(fifth.locator("#prejoin-error")).to_be_visible()
    check_both_widths(fifth, artifacts_dir, f"{lang}-full", in_call=False)

    first.on("dialog", lambda dialog: dialog.accept())
    first.click("#ctl-end")
    expect(people[0].page.locator("#ended")).to_be_visible()
    check_both_widths(people[0].page, artifacts_dir, f"{lang}-ended", in_call=False)
