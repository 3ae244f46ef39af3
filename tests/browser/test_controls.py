"""Microphone, camera and screen share: what the sender does and what peers see."""

from playwright.sync_api import expect

from tests.browser.calls import assert_media_flowing, make_room, start_call, tile, wait_for_peers

# The inbound video's size and frame count on the (only) connection.
INBOUND_VIDEO = """async () => {
    const pc = window.__testPcs.find((p) => p.connectionState !== 'closed');
    const stats = pc ? await pc.getStats() : new Map();
    let video = {};
    stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') video = s; });
    return { width: video.frameWidth || 0, height: video.frameHeight || 0,
             frames: video.framesDecoded || 0 };
}"""

CAMERA_TRACKS_STATE = """() => window.__testTracks
    .filter((t) => t.source === 'getUserMedia' && t.track.kind === 'video')
    .map((t) => t.track.readyState)"""

VIDEO_SENDER_TRACK = """() => window.__testPcs
    .filter((p) => p.connectionState !== 'closed')
    .map((p) => p.getTransceivers().find((t) => t.receiver.track.kind === 'video').sender.track)
    .map((t) => t ? t.label : null)"""


def wait_inbound(page, predicate: str, timeout: float = 15_000):
    """Wait until the inbound video satisfies ``predicate`` (JS over ``v``)."""
    page.wait_for_function(
        f"""async () => {{
            const v = await ({INBOUND_VIDEO})();
            return {predicate};
        }}""",
        timeout=timeout,
        polling=250,
    )


def test_mute_and_camera_off_are_seen_by_peers_and_stop_the_camera(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    sender, receiver = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(receiver, 1)
    assert_media_flowing(receiver, peers=1)
    seen = tile(receiver, "민지")

    sender.click("#ctl-mic")
    expect(sender.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.muted === 'true'"
    )
    assert seen.locator(".tile__muted").is_visible()

    sender.click("#ctl-camera")
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.camera === 'false'"
    )
    assert seen.locator(".tile__avatar").is_visible()
    # The camera is really off: every camera track ended, nothing is sent.
    assert set(sender.evaluate(CAMERA_TRACKS_STATE)) == {"ended"}
    assert sender.evaluate(VIDEO_SENDER_TRACK) == [None]
    frames = receiver.evaluate(INBOUND_VIDEO)["frames"]
    receiver.wait_for_timeout(1000)
    assert receiver.evaluate(INBOUND_VIDEO)["frames"] == frames

    sender.click("#ctl-camera")
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.camera === 'true'"
    )
    wait_inbound(receiver, f"v.frames > {frames}")
    sender.click("#ctl-mic")
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.muted === 'false'"
    )
    assert_media_flowing(receiver, peers=1)
    for page in (sender, receiver):
        assert page.context.errors == []


def test_screen_share_replaces_the_camera_and_returns_when_stopped(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    sender, receiver = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(receiver, 1)
    # The camera is 320x180 under test; the fake screen is 1280x720.
    wait_inbound(receiver, "v.width > 0 && v.width <= 320")

    sender.click("#ctl-screen")
    expect(sender.locator("#ctl-screen")).to_have_attribute("aria-pressed", "true")
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.screen === 'true'"
    )
    wait_inbound(receiver, "v.width > 320")
    assert sender.evaluate(VIDEO_SENDER_TRACK)[0].startswith("screen")

    sender.click("#ctl-screen")
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.screen === 'false'"
    )
    wait_inbound(receiver, "v.width > 0 && v.width <= 320")

    # Stopping from the browser's own "Stop sharing" bar ends the track,
    # which fires `ended` on it; the page must return to the camera too.
    sender.click("#ctl-screen")
    expect(tile(receiver, "민지")).to_have_attribute("data-screen", "true")
    wait_inbound(receiver, "v.width > 320")
    sender.evaluate(
        """() => window.__testTracks
            .filter((t) => t.source === 'getDisplayMedia' && t.track.readyState === 'live')
            .forEach((t) => t.track.dispatchEvent(new Event('ended')))"""
    )
    receiver.wait_for_function(
        "() => document.querySelector('.tile[data-name=\"민지\"]').dataset.screen === 'false'"
    )
    wait_inbound(receiver, "v.width > 0 && v.width <= 320")
    expect(sender.locator("#ctl-screen")).to_have_attribute("aria-pressed", "false")
    assert sender.evaluate(VIDEO_SENDER_TRACK)[0] != "screen"
    for page in (sender, receiver):
        assert page.context.errors == []
