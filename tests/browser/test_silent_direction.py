"""A silent direction in a real 3-person call: Alex's video stops reaching
민지 on their pair only (the RTCRtpSender of that one connection is given no
track). 민지's page notices within 3 s and says so, Alex's page says 민지
gets no video from it, and the pair is repaired by itself (an ICE restart,
then a rebuilt pair): the video flows again. Sora's connections are never
touched."""

from playwright.sync_api import expect

from tests.browser.calls import WATCH_FRAMES, WATCHED, make_room, start_call, tile, wait_for_peers

# On this page, the video sender of the connection that brings `name`'s video.
STOP_VIDEO_TO = """async (name) => {
    const video = document.querySelector(`.tile[data-name="${name}"] video`);
    const ids = new Set(video.srcObject.getTracks().map((t) => t.id));
    const pc = window.__testPcs.find((pc) => pc.connectionState === "connected"
        && pc.getReceivers().some((r) => r.track && ids.has(r.track.id)));
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
    await sender.replaceTrack(null);
    window.__stoppedPc = pc;
}"""

# Frames decoded from `name`'s tile video, growing again?
FRAMES_OF = """(name) => {
    const video = document.querySelector(`.tile[data-name="${name}"] video`);
    return video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
}"""


def test_a_silent_direction_is_shown_within_3s_and_repaired_and_others_untouched(
    call_server, new_context, make_user
):
    minji, alex, sora = (
        make_user("minji", "민지"),
        make_user("alex", "Alex"),
        make_user("sora", "Sora"),
    )
    room = make_room(minji, members=[alex, sora])
    pages = [p.page for p in start_call(new_context, call_server, room, [minji, alex, sora])]
    for page in pages:
        wait_for_peers(page, 2, timeout=20_000)
    first, second, third = pages
    expect(tile(first, "Alex").locator(".tile__link")).to_have_attribute(
        "data-grade", "good", timeout=15_000
    )
    assert third.evaluate(WATCH_FRAMES) == 2

    # Alex stops sending video to 민지 only.
    second.evaluate(STOP_VIDEO_TO, "민지")
    badge = tile(first, "Alex").locator(".tile__link")
    # Within 3 s (SILENT_AFTER_MS 2 s, sampled about once a second), plus
    # slack for a test machine running three pages on two cores.
    expect(badge).to_have_attribute("data-silent", "video", timeout=5_000)
    expect(badge).to_contain_text("No video — repairing")
    expect(tile(second, "민지").locator(".tile__link")).to_contain_text(
        "They get no video from you", timeout=5_000
    )

    # Repaired by itself: the video from Alex flows again on 민지's page.
    expect(badge).to_have_attribute("data-silent", "", timeout=30_000)
    before = first.evaluate(FRAMES_OF, "Alex")
    first.wait_for_function(f"() => ({FRAMES_OF})('Alex') > {before} + 5", timeout=10_000)
    expect(tile(second, "민지").locator(".tile__link")).to_have_attribute(
        "data-missing", "", timeout=10_000
    )

    # Sora's two connections were never touched.
    watched = third.evaluate(WATCHED)
    assert watched["created"] == 0, watched
    assert watched["open"] == 2, watched
    assert watched["worst"] < 1000, watched
