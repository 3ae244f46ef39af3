"""The pre-join screen: preview, devices, and joining without a camera."""

from tests.browser.calls import make_room, open_call


def test_prejoin_shows_preview_level_devices_and_prefilled_name(
    call_server, new_context, make_user
):
    minji = make_user("minji", "민지")
    room = make_room(minji, "주간 회의")
    context = new_context(call_server, minji)
    page = open_call(context, room)
    page.wait_for_function("() => document.getElementById('preview-video').videoWidth > 0")
    assert page.input_value("#display-name") == "민지"
    assert page.locator("#select-camera option").count() >= 1
    assert page.locator("#select-mic option").count() >= 1
    assert page.get_attribute("#preview-box", "data-camera") == "on"
    # The level meter moves with the fake microphone's tone.
    page.click("#prejoin-mic")
    page.click("#prejoin-mic")
    page.wait_for_function(
        "() => parseFloat(document.getElementById('mic-level').style.transform.slice(7)) > 0.05"
    )
    page.screenshot(path="test-artifacts/prejoin.png")
    assert context.errors == []
