"""Guests through an invite in real Chromium: a host creates an invite that
allows guests, someone without an account joins with a Korean name, both see
and hear each other, the host sees the guest label, and revoking the invite
ends the guest's call at once with a message (no reconnect). With the lobby
on, a guest waits there like anyone who is not a host."""

from playwright.sync_api import expect

from rooms import services
from rooms.models import Room
from tests.browser.calls import (
    assert_media_flowing,
    join,
    make_room,
    open_call,
    tile,
    wait_for_peers,
)

GUEST_NAME = "손님 지수"


def test_a_guest_joins_through_an_invite_and_leaves_when_it_is_revoked(
    call_server, new_context, make_user
):
    minji = make_user("minji", "Minji")
    room = make_room(minji, "Design review")
    host_context = new_context(call_server, minji)
    room_page = host_context.new_page()
    room_page.goto(room.get_absolute_url())
    room_page.get_by_label("Allow guests (no account needed)").check()
    room_page.get_by_role("button", name="Create invite link").click()
    link = room_page.input_value("#new-invite-link")
    expect(room_page.get_by_text("Guests allowed")).to_be_visible()

    host_context.grant_permissions(["clipboard-read", "clipboard-write", "camera", "microphone"])
    host = open_call(host_context, room)
    join(host)
    # The in-call button makes a guest link of its own, too.
    host.click("#ctl-invite-guests")
    expect(host.locator("#banner")).to_contain_text("Guest invite link copied")
    call_link = host.evaluate("() => navigator.clipboard.readText()")
    assert call_link != link
    assert room.invites.filter(kind="call", allow_guests=True).count() == 1

    # A fresh browser, no account, in Korean.
    guest_context = new_context(call_server, locale="ko-KR")
    invitation = guest_context.new_page()
    invitation.goto(link)
    assert "/i/" not in invitation.url
    expect(invitation.locator("#guest-form")).to_be_visible()
    expect(invitation.get_by_role("link", name="로그인하고 참여")).to_be_visible()
    # A blank name is refused with a clear error; the invitation waits.
    invitation.fill("input[name=display_name]", "   ")
    invitation.locator("#guest-form button[type=submit]").click()
    expect(invitation.get_by_text("다른 참가자에게 보일 이름을 입력하세요.")).to_be_visible()
    invitation.fill("input[name=display_name]", GUEST_NAME)
    invitation.locator("#guest-form button[type=submit]").click()
    invitation.wait_for_url(f"**{room.get_call_url()}")
    guest = open_call(guest_context, room)
    invitation.close()
    expect(guest.locator("#display-name")).to_have_value(GUEST_NAME)
    join(guest)

    assert_media_flowing(host, 1)
    assert_media_flowing(guest, 1)
    guest_tile = tile(host, GUEST_NAME)
    expect(guest_tile).to_have_attribute("data-guest", "")
    expect(guest_tile.locator(".tile__name")).to_have_text(f"{GUEST_NAME} (guest)")
    expect(guest.locator(".tile[data-self] .tile__name")).to_have_text(
        f"{GUEST_NAME} (게스트) (나)"
    )
    expect(tile(guest, "Minji")).not_to_have_attribute("data-guest", "")
    # A guest has no host tools.
    expect(guest.locator("#ctl-mute-all")).to_be_hidden()

    # The host revokes the invite: the guest is out at once, and told why.
    room_page.on("dialog", lambda dialog: dialog.accept())
    room_page.reload()
    # Newest first: the link made on the room page, which the guest used, is last.
    room_page.locator("#invites .invite").last.get_by_role("button", name="Revoke").click()
    expect(
        room_page.get_by_text("The invite link was revoked. It no longer works.")
    ).to_be_visible()
    expect(guest.locator("#ended")).to_be_visible()
    expect(guest.locator("#ended-title")).to_have_text(
        "게스트 참여가 끝났습니다. 초대 링크가 취소되었습니다. 호스트에게 새 링크를 요청하세요."
    )
    expect(guest.locator("#ended-rejoin")).to_be_hidden()
    expect(host.locator(f'.tile[data-name="{GUEST_NAME}"]')).to_have_count(0)
    # The call page no longer opens for them.
    guest.goto(room.get_call_url())
    assert "/call/" not in guest.url.split("?")[0]
    assert host_context.errors == []  # type: ignore[attr-defined]
    assert guest_context.errors == []  # type: ignore[attr-defined]


def test_a_guest_waits_in_the_lobby_until_the_host_admits_them(call_server, new_context, make_user):
    minji = make_user("minji", "Minji")
    room = make_room(minji, "Design review")
    Room.objects.filter(pk=room.pk).update(lobby_enabled=True)
    _invite, token = services.invite_create(room=room, created_by=minji, allow_guests=True)
    host = open_call(new_context(call_server, minji), room)
    join(host)

    guest_context = new_context(call_server)
    invitation = guest_context.new_page()
    invitation.goto(f"/i/{token}/")
    invitation.fill("input[name=display_name]", GUEST_NAME)
    invitation.locator("#guest-form button[type=submit]").click()
    invitation.wait_for_url(f"**{room.get_call_url()}")
    invitation.close()
    guest = open_call(guest_context, room)
    guest.click("#join-button")
    expect(guest.locator("#lobby-wait")).to_have_text("Waiting for a host to let you in.")
    expect(guest.locator("#incall")).to_be_hidden()

    knock = host.locator(".lobby__item")
    expect(knock.locator(".lobby__name")).to_have_text(f"{GUEST_NAME} (guest)")
    knock.locator(".lobby__admit").click()
    guest.wait_for_selector('#incall:not([hidden]) .tile[data-peer-id="self"]')
    wait_for_peers(host, 1)
    expect(tile(host, GUEST_NAME).locator(".tile__name")).to_have_text(f"{GUEST_NAME} (guest)")
    assert_media_flowing(guest, 1)
    assert guest_context.errors == []  # type: ignore[attr-defined]
