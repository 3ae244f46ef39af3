"""Joining without a camera or microphone: on purpose (the pre-join toggles),
refused by the browser, or with no devices; and the pre-join "Test speaker"."""

from playwright.sync_api import expect

from tests.browser.calls import (
    CHANNEL_RECORDER,
    PC_RECORDER,
    TRACK_RECORDER,
    assert_media_flowing,
    join,
    make_room,
    open_call,
    start_call,
    tile,
    wait_for_peers,
)
from tests.sessions import session_for

NO_DEVICES = """
navigator.mediaDevices.getUserMedia = async () => {
  throw new DOMException("Requested device not found", "NotFoundError");
};
"""


def test_blocked_permission_and_no_devices_still_join_to_watch_and_listen(
    call_server, new_context, browser_without_media_grant, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    (host,) = (p.page for p in start_call(new_context, call_server, room, [minji]))

    # A real refusal: this Chromium was not told to grant camera and microphone.
    blocked_context = browser_without_media_grant.new_context(base_url=call_server.url)
    blocked_context.add_cookies(
        [{"name": "sessionid", "value": session_for(alex), "url": call_server.url}]
    )
    for script in (PC_RECORDER, TRACK_RECORDER, CHANNEL_RECORDER):
        blocked_context.add_init_script(script)
    blocked = blocked_context.new_page()
    blocked.goto(room.get_call_url(), wait_until="domcontentloaded")
    blocked.wait_for_selector("#join-button:not([disabled])")
    notice = blocked.locator("#media-notice")
    expect(notice).to_contain_text("access was blocked")
    expect(notice).to_contain_text("You will join without camera or microphone.")
    expect(blocked.locator("#prejoin-mic")).to_be_disabled()
    expect(blocked.locator("#prejoin-camera")).to_be_disabled()
    join(blocked)
    wait_for_peers(blocked, 1)
    # They see and hear the host.
    assert_media_flowing(blocked, peers=1)

    # No camera or microphone at all.
    none_context = new_context(call_server, sora)
    none_context.add_init_script(NO_DEVICES)
    empty = open_call(none_context, room)
    expect(empty.locator("#media-notice")).to_contain_text("No camera or microphone was found")
    join(empty)

    for page in (blocked, empty):
        wait_for_peers(page, 2)
        expect(page.locator("#ctl-mic")).to_be_disabled()
    for name in ("Alex", "Sora"):
        expect(tile(host, name)).to_have_attribute("data-camera", "false")
        expect(tile(host, name)).to_have_attribute("data-muted", "true")
    blocked_context.close()


def test_camera_and_microphone_turned_off_before_joining_stay_off(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    (host,) = (p.page for p in start_call(new_context, call_server, room, [minji]))
    page = open_call(new_context(call_server, alex), room)
    page.click("#prejoin-camera")
    page.click("#prejoin-mic")
    expect(page.locator("#preview-box")).to_have_attribute("data-camera", "off")
    join(page)
    wait_for_peers(page, 1)
    expect(tile(host, "Alex")).to_have_attribute("data-camera", "false")
    expect(tile(host, "Alex")).to_have_attribute("data-muted", "true")
    expect(page.locator("#ctl-camera")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    # The camera was released, not just hidden: its light is off.
    live_cameras = page.evaluate(
        """() => window.__testTracks.filter(({ track }) =>
               track.kind === 'video' && track.readyState === 'live').length"""
    )
    assert live_cameras == 0
    # Turned on in the call, the camera is seen.
    page.click("#ctl-camera")
    expect(tile(host, "Alex")).to_have_attribute("data-camera", "true")


def test_test_speaker_plays_a_chime_on_the_chosen_speaker(call_server, new_context, make_user):
    minji = make_user("minji", "민지")
    context = new_context(call_server, minji)
    page = open_call(context, make_room(minji))
    page.select_option("#select-speaker", label="Fake Audio Output 1")
    speaker = page.eval_on_selector("#select-speaker", "(select) => select.value")
    button = page.locator("#speaker-test")
    expect(button).to_have_text("Test speaker")
    button.click()
    expect(button).to_have_attribute("data-playing", "true")
    # The button says so at once; the sound starts once the audio context has
    # resumed and the speaker is switched, so wait for the element to play.
    playing = page.wait_for_function(
        """() => {
            const audio = document.getElementById('speaker-test-audio');
            return !audio.paused && audio.srcObject && { sink: audio.sinkId };
        }"""
    ).json_value()
    assert playing == {"sink": speaker}
    expect(page.locator("#speaker-test-status")).to_have_text("Playing a test sound…")
    expect(button).to_have_attribute("data-playing", "false")
    expect(page.locator("#speaker-test-status")).to_have_text("")
    assert context.errors == []
