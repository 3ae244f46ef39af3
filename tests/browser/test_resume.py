"""A signaling outage nobody notices: daphne is killed mid-call and started
again on the same port (presence in a real Redis, as in a deployment), and
every browser resumes its seat. The same RTCPeerConnection objects carry the
call throughout, video never stalls, peer ids, raised hands and mutes stay."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.calls import (
    REMOTE_TILES,
    WATCH_FRAMES,
    WATCHED,
    make_room,
    start_call,
    tile,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV

pytestmark = [pytest.mark.redis]

# When the page next says it is back (Date.now(), comparable with time.time()).
MARK_RECONNECTED = """() => {
    window.__backAt = null;
    const banner = document.getElementById("banner");
    new MutationObserver(() => {
        if (window.__backAt === null && !banner.hidden
            && banner.dataset.kind === "info" && banner.textContent.includes("Reconnected")) {
            window.__backAt = Date.now();
        }
    }).observe(banner, { childList: true, subtree: true, attributes: true });
}"""


def peer_ids(page: Page) -> list[str]:
    return sorted(
        page.locator(REMOTE_TILES).evaluate_all("(tiles) => tiles.map((t) => t.dataset.peerId)")
    )


def restart_mid_call(start_server, new_context, make_user, redis_url, count: int, down: float):
    env = {**CALL_TEST_ENV, "REDIS_URL": redis_url}
    server = start_server(env)
    users = [make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora", "Sora")]
    users = users[:count]
    room = make_room(users[0], members=users[1:])
    people = start_call(new_context, server, room, users)
    pages = [person.page for person in people]
    for page in pages:
        wait_for_peers(page, count - 1, timeout=20_000)
    # Minji raises her hand, Alex mutes: both must survive the outage.
    pages[0].click("#ctl-hand")
    pages[1].click("#ctl-mic")
    for page in pages[1:]:
        expect(tile(page, "민지")).to_have_attribute("data-hand", "true")
    for page in (pages[0], *pages[2:]):
        expect(tile(page, "Alex")).to_have_attribute("data-muted", "true")
    ids = [peer_ids(page) for page in pages]
    for page in pages:
        assert page.evaluate(WATCH_FRAMES) == count - 1
        page.evaluate(MARK_RECONNECTED)

    server.kill()
    for page in pages:
        expect(page.locator("#banner")).to_contain_text(
            "Reconnecting to the server — your call continues"
        )
    if down:
        # The outage itself: media goes on peer to peer meanwhile.
        time.sleep(down)
    start_server(env, port=server.port)
    restarted = time.time()
    for page in pages:
        page.wait_for_function("() => window.__backAt !== null", timeout=15_000)
    back = [page.evaluate("() => window.__backAt") / 1000 - restarted for page in pages]
    # A few more samples after the resume, then what the watch saw.
    for page in pages:
        page.wait_for_timeout(1500)
    seen = [page.evaluate(WATCHED) for page in pages]

    for page, before, watched in zip(pages, ids, seen, strict=True):
        assert watched["created"] == 0, watched  # no connection replaced or added
        assert watched["open"] == count - 1, watched
        assert watched["worst"] < 1000, watched  # video never stalled for a second
        assert peer_ids(page) == before
    for page in pages[1:]:
        expect(tile(page, "민지")).to_have_attribute("data-hand", "true")
    for page in (pages[0], *pages[2:]):
        expect(tile(page, "Alex")).to_have_attribute("data-muted", "true")
    for person in people:
        # Chromium logs each refused WebSocket attempt during the outage.
        assert [e for e in person.context.errors if "WebSocket" not in e] == []
    return back


@pytest.mark.parametrize("count", [2, 3])
def test_a_server_restart_mid_call_keeps_every_connection_and_peer_id(
    start_server, new_context, make_user, redis_url, count
):
    restart_mid_call(start_server, new_context, make_user, redis_url, count, down=0)


def test_a_twenty_second_outage_goes_unnoticed_and_everyone_resumes_within_3s(
    start_server, new_context, make_user, redis_url
):
    back = restart_mid_call(start_server, new_context, make_user, redis_url, 2, down=20)
    assert max(back) < 3.0, back
