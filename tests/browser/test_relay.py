"""Relay-only calls through a real coturn on loopback, with server-minted credentials."""

import pytest
from playwright.sync_api import expect

from tests.browser.calls import (
    REMOTE_TILES,
    assert_media_flowing,
    make_room,
    start_call,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV
from tests.servers import CoturnServer

SECRET = "loopback-turn-secret-for-tests"


@pytest.fixture
def coturn(artifacts_dir):
    with CoturnServer(artifacts_dir / "coturn", SECRET) as server:
        yield server


def relay_env(coturn, secret):
    return {
        **CALL_TEST_ENV,
        "TURN_URLS": coturn.url,
        "TURN_SECRET": secret,
        "ICE_TRANSPORT_POLICY": "relay",
    }


def test_relay_only_call_connects_through_turn(coturn, start_server, new_context, make_user):
    server = start_server(relay_env(coturn, SECRET))
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    pages = [p.page for p in start_call(new_context, server, room, [minji, alex])]
    for page in pages:
        wait_for_peers(page, 1, timeout=20_000)
    for page in pages:
        for pair in assert_media_flowing(page, peers=1):
            assert (pair["local"], pair["remote"]) == ("relay", "relay")
        expect(page.locator("#banner[data-kind=error]")).to_have_count(0)


def test_wrong_turn_secret_shows_relay_error_and_never_connects(
    coturn, start_server, new_context, make_user
):
    server = start_server(relay_env(coturn, "not-the-secret-coturn-knows"))
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    pages = [p.page for p in start_call(new_context, server, room, [minji, alex])]
    for page in pages:
        expect(page.locator("#banner")).to_contain_text("relay server", timeout=15_000)
        expect(page.locator(REMOTE_TILES)).not_to_have_attribute("data-state", "connected")
    assert all(
        page.evaluate("() => window.__testPcs.every((pc) => pc.connectionState !== 'connected')")
        for page in pages
    )
