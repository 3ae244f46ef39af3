"""The call survives losing the signaling server: reconnect, rejoin, media again."""

from playwright.sync_api import expect

from tests.browser.calls import (
    REMOTE_TILES,
    assert_media_flowing,
    make_room,
    start_call,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV


def test_server_restart_mid_call_reconnects_and_media_flows_again_without_reload(
    start_server, new_context, make_user
):
    server = start_server(CALL_TEST_ENV)
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    pages = [p.page for p in start_call(new_context, server, room, [minji, alex])]
    for page in pages:
        wait_for_peers(page, 1)
        page.evaluate("() => { window.__sameDocument = true; }")
    old_ids = [page.locator(REMOTE_TILES).get_attribute("data-peer-id") for page in pages]

    server.stop()
    for page in pages:
        expect(page.locator("#banner")).to_contain_text("Reconnecting")
    start_server(CALL_TEST_ENV, port=server.port)

    for page, old_id in zip(pages, old_ids, strict=True):
        page.wait_for_function(
            """(old) => {
                const tiles = [...document.querySelectorAll('.tile:not([data-self])')];
                return tiles.length === 1 && tiles[0].dataset.peerId !== old
                  && tiles[0].dataset.state === 'connected';
            }""",
            arg=old_id,
            timeout=20_000,
        )
    for page in pages:
        assert_media_flowing(page, peers=1)
        assert page.evaluate("() => window.__sameDocument") is True
        expect(page.locator("#incall")).to_be_visible()


def test_simultaneous_ice_restarts_from_both_sides_do_not_wedge_the_pair(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    pages = [p.page for p in start_call(new_context, call_server, room, [minji, alex])]
    for page in pages:
        wait_for_peers(page, 1)
    restart = """() => {
        const pc = window.__testPcs.find((p) => p.connectionState !== 'closed');
        window.__ufragBefore = pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1];
        pc.restartIce();
    }"""
    # Both sides start a renegotiation at once: a guaranteed offer collision.
    for page in pages:
        page.evaluate(restart)
    for page in pages:
        page.wait_for_function(
            """() => {
                const pc = window.__testPcs.find((p) => p.connectionState !== 'closed');
                const ufrag = pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1];
                return pc.signalingState === 'stable' && ufrag !== window.__ufragBefore
                  && pc.connectionState === 'connected';
            }""",
            timeout=10_000,
        )
    for page in pages:
        assert_media_flowing(page, peers=1)
        assert page.context.errors == []
