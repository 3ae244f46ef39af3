"""What people are told when something stops them: no camera, locked, removed, invites."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from playwright.sync_api import expect

from rooms import services
from rooms.models import Membership
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

DENY_MEDIA = """
navigator.mediaDevices.getUserMedia = async () => {
  throw new DOMException("Permission denied", "NotAllowedError");
};
"""


def test_denied_camera_and_microphone_still_joins_to_watch_and_listen(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    (host,) = (p.page for p in start_call(new_context, call_server, room, [minji]))
    context = new_context(call_server, alex)
    context.add_init_script(DENY_MEDIA)
    viewer = open_call(context, room)
    expect(viewer.locator("#media-notice")).to_contain_text("blocked")
    expect(viewer.locator("#preview-off")).to_be_visible()
    join(viewer)
    wait_for_peers(viewer, 1)
    # The viewer receives everything and is shown to the others as camera off and muted.
    assert_media_flowing(viewer, peers=1)
    expect(tile(host, "Alex")).to_have_attribute("data-camera", "false")
    expect(tile(host, "Alex")).to_have_attribute("data-muted", "true")


def test_locked_room_explains_and_lets_the_person_retry(call_server, new_context, make_user):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    services.room_set_locked(room=room, by=minji, locked=True)
    page = open_call(new_context(call_server, alex), room)
    error = page.locator("#prejoin-error")
    expect(error).to_contain_text("locked")
    expect(page.locator("#join-button")).to_have_text("Try again")

    services.room_set_locked(room=room, by=minji, locked=False)
    page.click("#join-button")
    expect(page.locator("#incall")).to_be_visible()
    expect(error).to_be_hidden()


def test_removed_member_is_told_they_are_no_longer_a_member(
    redis_url, start_server, settings, new_context, make_user
):
    # The room page's "remove" reaches the call through the channel layer, so
    # this process and the server must share one: a real Redis.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": "meet"},
        }
    }
    call_server = start_server({**CALL_TEST_ENV, "REDIS_URL": redis_url})
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    host, guest = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(host, 1)
    membership = Membership.objects.get(user=alex)

    def remove():
        # The service tells live calls through async_to_sync, which cannot run
        # on the thread where Playwright's event loop lives.
        try:
            services.membership_remove(membership=membership, by=minji)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(remove).result()
    expect(guest.locator("#ended-title")).to_have_text("You are not a member of this room.")
    expect(tile(host, "Alex")).to_have_count(0)


def test_host_copies_an_invite_link_and_members_do_not_see_the_button(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    context = new_context(call_server, minji)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    host = open_call(context, room)
    join(host)
    host.click("#ctl-invite")
    expect(host.locator("#banner")).to_contain_text("Invite link copied")
    link = host.evaluate("() => navigator.clipboard.readText()")
    assert f"{call_server.url}/i/" in link
    assert room.invites.count() == 1

    guest = open_call(new_context(call_server, alex), room)
    join(guest)
    expect(guest.locator("#ctl-invite")).to_be_hidden()
    # The endpoint itself refuses members too.
    status = guest.evaluate(
        """async () => {
            const config = JSON.parse(document.getElementById('call-config').textContent);
            const response = await fetch(config.urls.invite, {
                method: 'POST', headers: { 'X-CSRFToken': config.csrf } });
            return response.status;
        }"""
    )
    assert status == 403
    assert room.invites.count() == 1
