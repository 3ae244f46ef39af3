"""Switching camera, microphone and speaker during the call, from the settings dialog.

Chromium's fake devices (see conftest): three cameras, three microphones and
three speakers. Switching goes through replaceTrack: the same connection, no
new offer, the new track on the sender, the old one stopped.
"""

import json

from playwright.sync_api import Page, expect

from tests.browser.calls import assert_media_flowing, make_room, start_call, tile, wait_for_peers

# What the (only) connection sends, and whether it was renegotiated.
SENDING = """() => {
    const live = window.__testPcs.filter((p) => p.connectionState !== 'closed');
    const pc = live[0];
    const sending = {};
    for (const t of pc.getTransceivers()) {
        const track = t.sender.track;
        sending[t.receiver.track.kind] = track && {
            id: track.id, label: track.label, state: track.readyState, enabled: track.enabled,
        };
    }
    return { connections: live.length, offer: pc.localDescription.sdp,
             signaling: pc.signalingState, ...sending };
}"""

# Every camera or microphone track getUserMedia handed out: label → states.
OPENED = """(kind) => {
    const states = {};
    for (const { source, track } of window.__testTracks) {
        if (source !== 'getUserMedia' || track.kind !== kind) continue;
        (states[track.label] = states[track.label] || []).push(track.readyState);
    }
    return states;
}"""

SELF_VIDEO = """() => {
    const video = document.querySelector('.tile[data-self] video');
    const track = video.srcObject && video.srcObject.getVideoTracks()[0];
    return track ? track.id : null;
}"""

PREFS = "() => JSON.parse(localStorage.getItem('meet.call.devices') || '{}')"


def option_value(page: Page, select: str, label: str) -> str:
    return page.locator(f"{select} option", has_text=label).get_attribute("value") or ""


def wait_sending(page: Page, kind: str, label: str, not_id: str = "", **extra) -> dict:
    """Wait until the sender sends a live track from ``label``, other than
    track ``not_id``, with the ``extra`` fields."""
    page.wait_for_function(
        f"""([kind, label, notId, extra]) => {{
            const now = ({SENDING})()[kind];
            return !!now && now.label === label && now.state === 'live' && now.id !== notId
                && Object.entries(extra).every(([key, value]) => now[key] === value);
        }}""",
        arg=[kind, label, not_id, extra],
    )
    return page.evaluate(SENDING)


def open_settings(page: Page) -> None:
    page.click("#ctl-settings")
    expect(page.locator("#settings")).to_be_visible()


def test_camera_microphone_and_speaker_switch_mid_call_without_renegotiation(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    sender, receiver = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(sender, 1)
    wait_for_peers(receiver, 1)
    before = sender.evaluate(SENDING)
    assert before["video"]["label"] == "fake_device_0"
    assert before["audio"]["label"] == "Fake Default Audio Input"

    # Keyboard: the control opens the dialog with focus on the first picker;
    # Escape closes it and gives focus back.
    settings = sender.locator("#ctl-settings")
    expect(settings).to_have_attribute("aria-label", "Settings")
    settings.focus()
    sender.keyboard.press("Enter")
    expect(sender.locator("#settings")).to_be_visible()
    expect(sender.locator("#settings-camera")).to_be_focused()
    expect(sender.locator("#settings-camera option")).to_have_text(
        ["fake_device_0", "fake_device_1", "fake_device_2"]
    )
    expect(sender.locator("#settings-camera")).to_have_value(
        option_value(sender, "#settings-camera", "fake_device_0")
    )
    expect(sender.locator("#settings-speaker option")).to_have_count(3)

    # Camera: the sender gets the new camera's track, the old camera stops,
    # the self view shows the new one, the connection is not renegotiated.
    camera_2 = option_value(sender, "#settings-camera", "fake_device_2")
    sender.select_option("#settings-camera", camera_2)
    now = wait_sending(sender, "video", "fake_device_2")
    assert now["connections"] == 1
    assert now["signaling"] == "stable"
    assert now["offer"] == before["offer"]
    assert now["audio"] == before["audio"]
    assert sender.evaluate(OPENED, "video") == {
        "fake_device_0": ["ended"],
        "fake_device_2": ["live"],
    }
    assert sender.evaluate(SELF_VIDEO) == now["video"]["id"]
    assert sender.evaluate(PREFS)["videoinput"] == camera_2
    assert_media_flowing(receiver, peers=1)

    # Microphone while muted: the new one is muted too.
    sender.keyboard.press("Escape")
    expect(sender.locator("#settings")).to_be_hidden()
    expect(settings).to_be_focused()
    sender.click("#ctl-mic")
    expect(tile(receiver, "민지")).to_have_attribute("data-muted", "true")
    open_settings(sender)
    mic_1 = option_value(sender, "#settings-mic", "Fake Audio Input 1")
    sender.select_option("#settings-mic", mic_1)
    now = wait_sending(sender, "audio", "Fake Audio Input 1", enabled=False)
    assert now["offer"] == before["offer"]
    assert sender.evaluate(OPENED, "audio") == {
        "Fake Default Audio Input": ["ended"],
        "Fake Audio Input 1": ["live"],
    }
    assert sender.evaluate(PREFS)["audioinput"] == mic_1
    expect(sender.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    sender.keyboard.press("Escape")
    sender.click("#ctl-mic")
    wait_sending(sender, "audio", "Fake Audio Input 1", enabled=True)
    expect(tile(receiver, "민지")).to_have_attribute("data-muted", "false")

    # Camera off: picking a camera only records the choice, nothing is opened;
    # turning the camera on uses it.
    sender.click("#ctl-camera")
    expect(tile(receiver, "민지")).to_have_attribute("data-camera", "false")
    open_settings(sender)
    expect(sender.locator("#settings-camera-hint")).to_be_visible()
    camera_0 = option_value(sender, "#settings-camera", "fake_device_0")
    sender.select_option("#settings-camera", camera_0)
    sender.wait_for_function(f"() => ({PREFS})().videoinput === {json.dumps(camera_0)}")
    assert sender.evaluate(SENDING)["video"] is None
    assert sender.evaluate(OPENED, "video") == {
        "fake_device_0": ["ended"],
        "fake_device_2": ["ended"],
    }
    expect(sender.locator("#ctl-camera")).to_have_attribute("aria-pressed", "true")
    sender.keyboard.press("Escape")
    sender.click("#ctl-camera")
    now = wait_sending(sender, "video", "fake_device_0")
    assert now["offer"] == before["offer"]
    expect(tile(receiver, "민지")).to_have_attribute("data-camera", "true")

    # Speaker: remote audio plays on the chosen output, remembered.
    open_settings(sender)
    expect(sender.locator("#settings-camera-hint")).to_be_hidden()
    speaker = option_value(sender, "#settings-speaker", "Fake Audio Output 1")
    sender.select_option("#settings-speaker", speaker)
    sender.wait_for_function(
        "(id) => document.querySelector('.tile:not([data-self]) .tile__audio').sinkId === id",
        arg=speaker,
    )
    assert sender.evaluate(PREFS)["audiooutput"] == speaker

    assert_media_flowing(receiver, peers=1)
    assert_media_flowing(sender, peers=1)
    for page in (sender, receiver):
        assert page.context.errors == []


# Make getUserMedia refuse one device id, as a camera that was unplugged
# ("NotFoundError") or is used by another program ("NotReadableError") does.
REFUSE = """([deviceId, name]) => {
    const devices = navigator.mediaDevices;
    if (!window.__realGetUserMedia) window.__realGetUserMedia = devices.getUserMedia;
    devices.getUserMedia = (constraints) => {
        const video = constraints.video && constraints.video.deviceId;
        if (video && video.exact === deviceId) {
            return Promise.reject(new DOMException('refused by the test', name));
        }
        return window.__realGetUserMedia(constraints);
    };
}"""


def test_a_device_that_cannot_start_keeps_the_call_going_and_lists_follow_the_hardware(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    sender, receiver = (p.page for p in start_call(new_context, call_server, room, [minji, alex]))
    wait_for_peers(sender, 1)
    before = sender.evaluate(SENDING)
    open_settings(sender)
    camera_0 = option_value(sender, "#settings-camera", "fake_device_0")
    camera_2 = option_value(sender, "#settings-camera", "fake_device_2")
    error = sender.locator("#settings-error")

    # The new camera is gone: the old track stays, untouched, and live.
    sender.evaluate(REFUSE, [camera_2, "NotFoundError"])
    sender.select_option("#settings-camera", camera_2)
    expect(error).to_have_text(
        "That camera could not be started. You are still using the previous one."
    )
    now = sender.evaluate(SENDING)
    assert now["video"] == before["video"]
    expect(sender.locator("#settings-camera")).to_have_value(camera_0)
    assert "videoinput" not in sender.evaluate(PREFS)

    # The new camera is busy (a phone that cannot open two cameras at once
    # says so too): the old one is released, and reopened when the new one
    # still cannot start.
    sender.evaluate(REFUSE, [camera_2, "NotReadableError"])
    sender.select_option("#settings-camera", camera_2)
    now = wait_sending(sender, "video", "fake_device_0", not_id=before["video"]["id"])
    expect(error).to_be_visible()
    assert sender.evaluate(OPENED, "video") == {"fake_device_0": ["ended", "live"]}
    expect(tile(receiver, "민지")).to_have_attribute("data-camera", "true")
    assert_media_flowing(receiver, peers=1)

    # A device plugged in appears in the lists (devicechange).
    sender.evaluate(
        """() => {
            const devices = navigator.mediaDevices;
            const real = devices.enumerateDevices.bind(devices);
            const usb = { kind: 'videoinput', deviceId: 'usb', label: 'USB Camera', groupId: '' };
            devices.enumerateDevices = async () => [...await real(), usb];
            devices.dispatchEvent(new Event('devicechange'));
        }"""
    )
    expect(sender.locator("#settings-camera option")).to_have_text(
        ["fake_device_0", "fake_device_1", "fake_device_2", "USB Camera"]
    )
    expect(sender.locator("#select-camera option")).to_have_count(4)
    sender.keyboard.press("Escape")

    # The microphone in use is unplugged: the default one takes over.
    sender.evaluate(
        """() => window.__testPcs.filter((p) => p.connectionState !== 'closed')[0]
            .getSenders().find((s) => s.track && s.track.kind === 'audio')
            .track.dispatchEvent(new Event('ended'))"""
    )
    wait_sending(sender, "audio", "Fake Default Audio Input", not_id=before["audio"]["id"])
    assert sender.evaluate(OPENED, "audio") == {"Fake Default Audio Input": ["ended", "live"]}
    expect(sender.locator("#banner")).to_contain_text("Now using: Fake Default Audio Input")

    # The camera is unplugged: the others see the camera off.
    sender.evaluate(
        """() => window.__testPcs.filter((p) => p.connectionState !== 'closed')[0]
            .getSenders().find((s) => s.track && s.track.kind === 'video')
            .track.dispatchEvent(new Event('ended'))"""
    )
    expect(tile(receiver, "민지")).to_have_attribute("data-camera", "false")
    expect(sender.locator("#ctl-camera")).to_have_attribute("aria-pressed", "true")
    expect(sender.locator("#banner")).to_contain_text("Your camera was disconnected.")
    assert sender.evaluate(SENDING)["video"] is None
    for page in (sender, receiver):
        assert page.context.errors == []
