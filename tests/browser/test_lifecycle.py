"""Leaving, closing the tab, being removed by a host, and the meeting ending."""

from playwright.sync_api import expect

from tests.browser.calls import REMOTE_TILES, make_room, start_call, tile, wait_for_peers

FEW_SECONDS = 5_000


def test_leave_and_closed_tab_remove_tiles_within_seconds(call_server, new_context, make_user):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    people = start_call(new_context, call_server, room, [minji, alex, sora])
    host, leaver, closer = (p.page for p in people)
    wait_for_peers(host, 2)

    leaver.click("#ctl-leave")
    expect(leaver.locator("#ended-title")).to_have_text("You left the call.")
    expect(leaver.locator("#ended-rejoin")).to_be_visible()
    expect(tile(host, "Alex")).to_have_count(0, timeout=FEW_SECONDS)
    expect(tile(closer, "Alex")).to_have_count(0, timeout=FEW_SECONDS)
    # Leaving releases the camera and microphone.
    assert leaver.evaluate("() => window.__testTracks.every((t) => t.track.readyState === 'ended')")

    closer.close()
    expect(tile(host, "Sora")).to_have_count(0, timeout=FEW_SECONDS)
    expect(host.locator(REMOTE_TILES)).to_have_count(0)
    assert host.context.errors == []


def test_host_kicks_a_participant_who_is_told_so(call_server, new_context, make_user):
    minji, alex = make_user("minji", "민지"), make_user("alex")
    room = make_room(minji, members=[alex])
    host, guest = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(host, 1)
    # Only hosts get the remove button and the end-meeting control.
    expect(guest.locator(".tile__kick:visible")).to_have_count(0)
    expect(guest.locator("#ctl-end")).to_be_hidden()

    host.on("dialog", lambda dialog: dialog.accept())
    tile(host, "Alex").hover()
    tile(host, "Alex").locator(".tile__kick").click()
    expect(guest.locator("#ended-title")).to_have_text("A host removed you from the call.")
    expect(tile(host, "Alex")).to_have_count(0, timeout=FEW_SECONDS)
    expect(host.locator("#banner")).to_contain_text("Alex")


def test_host_ends_the_meeting_for_everyone(call_server, new_context, make_user):
    minji, alex = make_user("minji", "민지"), make_user("alex")
    room = make_room(minji, members=[alex])
    host, guest = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(guest, 1)

    host.on("dialog", lambda dialog: dialog.accept())
    host.click("#ctl-end")
    for page in (host, guest):
        expect(page.locator("#ended-title")).to_have_text("The meeting has ended.")
        expect(page.locator("#ended-room")).to_be_visible()
        expect(page.locator("#ended-rejoin")).to_be_hidden()
