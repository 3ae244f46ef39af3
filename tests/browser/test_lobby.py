"""The lobby in real Chromium: with it on, a member waits on the pre-join
screen (preview still live) until the host in the call admits them; a host
who denies someone closes their page with a clear message."""

import pytest
from playwright.sync_api import expect

from rooms.models import Room
from tests.browser.calls import (
    assert_media_flowing,
    join,
    make_room,
    open_call,
    start_call,
    tile,
    wait_for_peers,
)
from tests.browser.conftest import CALL_TEST_ENV


def test_the_host_admits_one_member_and_denies_another(call_server, new_context, make_user):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    (host,) = (p.page for p in start_call(new_context, call_server, room, [minji]))
    # The host turns the lobby on from the call.
    lobby_switch = host.locator("#ctl-lobby")
    expect(lobby_switch).to_have_attribute("aria-pressed", "false")
    lobby_switch.click()
    expect(lobby_switch).to_have_attribute("aria-pressed", "true")
    assert Room.objects.get(pk=room.pk).lobby_enabled is True

    # The host will hear the knock: count the knock sound's plays.
    host.evaluate(
        """() => document.getElementById('knock-audio').addEventListener('playing', () => {
            window.knocksHeard = (window.knocksHeard || 0) + 1;
        })"""
    )

    # Alex knocks: he waits on the pre-join screen, his preview still showing.
    alex_page = open_call(new_context(call_server, alex), room)
    alex_page.fill("#display-name", "Alex <b>K</b>")
    alex_page.click("#join-button")
    expect(alex_page.locator("#lobby-wait")).to_have_text("Waiting for a host to let you in.")
    expect(alex_page.locator("#prejoin")).to_be_visible()
    expect(alex_page.locator("#join-button")).to_have_text("Waiting in the lobby…")
    expect(alex_page.locator("#join-button")).to_be_disabled()
    expect(alex_page.locator("#incall")).to_be_hidden()
    assert alex_page.evaluate(
        "() => document.getElementById('preview-video').srcObject?.active === true"
    )

    # The host sees the name as text and admits him; both videos decode.
    knock = host.locator(".lobby__item")
    expect(knock.locator(".lobby__name")).to_have_text("Alex <b>K</b>")
    expect(host.locator(".lobby__name b")).to_have_count(0)
    host.wait_for_function("() => window.knocksHeard === 1")
    knock.locator(".lobby__admit").click()
    alex_page.wait_for_selector('#incall:not([hidden]) .tile[data-peer-id="self"]')
    expect(host.locator("#lobby")).to_be_hidden()
    for page in (host, alex_page):
        wait_for_peers(page, 1)
        assert_media_flowing(page, 1)
    expect(tile(host, "Alex <b>K</b>")).to_be_visible()

    # Sora knocks and is denied: a clear message, and no reconnecting.
    sora_page = open_call(new_context(call_server, sora), room)
    sora_page.click("#join-button")
    expect(sora_page.locator("#lobby-wait")).to_be_visible()
    host.locator(".lobby__item .lobby__deny").click()
    expect(sora_page.locator("#ended-title")).to_have_text("A host did not let you in.")
    expect(sora_page.locator("#ended-rejoin")).to_be_hidden()
    expect(host.locator("#lobby")).to_be_hidden()
    wait_for_peers(host, 1)


@pytest.mark.redis
@pytest.mark.multiprocess
def test_a_host_on_another_process_sees_those_already_waiting_and_admits_them(
    redis_url, start_server, new_context, make_user
):
    env = {**CALL_TEST_ENV, "REDIS_URL": redis_url}
    servers = [start_server(env), start_server(env)]
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    Room.objects.filter(pk=room.pk).update(lobby_enabled=True)
    # Alex knocks before any host is there, on the first process.
    alex_page = open_call(new_context(servers[0], alex), room)
    alex_page.click("#join-button")
    expect(alex_page.locator("#lobby-wait")).to_have_text(
        "Waiting for a host to let you in. No host is in the call yet."
    )
    # The host joins on the second process: Alex is told, the host sees him.
    host = open_call(new_context(servers[1], minji), room)
    join(host)
    expect(alex_page.locator("#lobby-wait")).to_have_text("Waiting for a host to let you in.")
    expect(host.locator(".lobby__name")).to_have_text("Alex")
    host.locator(".lobby__admit").click()
    for page in (host, alex_page):
        wait_for_peers(page, 1, timeout=20_000)
        assert_media_flowing(page, 1, timeout=20_000)
