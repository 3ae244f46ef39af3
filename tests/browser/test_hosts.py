"""Host hand-over and mute requests in real Chromium: when the host leaves, the
longest-present member becomes acting host (in the call and on the room page)
and can mute people; only the person's own browser mutes them, nobody is
unmuted remotely, and a member's mute request is refused."""

import json

from playwright.sync_api import Page, expect

from tests.browser.calls import join, make_room, open_call, start_call, tile, wait_for_peers

# Keeps the page's signaling socket and every frame it receives, so a test
# can send what a tampered-with page would send and read the server's answer.
WS_TAP = """
(() => {
  if (window.__testWsReceived) return;
  const received = [];
  Object.defineProperty(window, "__testWsReceived", { value: received });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (window.__testWs !== this) {
      window.__testWs = this;
      this.addEventListener("message", (event) => received.push(String(event.data)));
    }
    return send.call(this, data);
  };
})();
"""

# The server's error about the frame with this ref (waits for it).
SERVER_ERROR = """(ref) => window.__testWsReceived.map((text) => JSON.parse(text))
    .find((frame) => frame.type === "error" && frame.ref === ref) || null"""


def forge(page: Page, frame: dict) -> dict:
    """Send ``frame`` on the page's own socket; the server's error about it."""
    page.evaluate("(text) => window.__testWs.send(text)", json.dumps(frame))
    return page.wait_for_function(SERVER_ERROR, arg=frame["ref"]).json_value()


def peer_id(page: Page, name: str) -> str:
    return tile(page, name).get_attribute("data-peer-id") or ""


def mic_track_enabled(page: Page) -> bool:
    return page.evaluate(
        """() => window.__testTracks.filter(({ track }) => track.kind === "audio"
            && track.readyState === "live").every(({ track }) => track.enabled)"""
    )


def test_the_longest_present_member_becomes_acting_host_and_mutes_people(
    call_server, new_context, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    people = start_call(new_context, call_server, room, [minji, alex, sora])
    host, first, second = (p.page for p in people)
    for page in (host, first, second):
        wait_for_peers(page, 2)
    # While the host is there, only the host has a host's tools.
    expect(host.locator("#ctl-mute-all")).to_be_visible()
    for page in (first, second):
        expect(page.locator("#ctl-mute-all")).to_be_hidden()
        expect(page.locator(".tile__mute:not([hidden])")).to_have_count(0)
        expect(page.locator(".tile[data-acting]")).to_have_count(0)

    host.click("#ctl-leave")
    # Alex came before Sora: Alex is acting host, and both are told.
    expect(first.locator("#banner")).to_have_text(
        "No host is in the call: you are the acting host. You can mute and remove people."
    )
    expect(second.locator("#banner")).to_have_text(
        "No host is in the call: Alex is the acting host."
    )
    expect(first.locator(".tile[data-self][data-acting] .tile__role")).to_have_text("Acting host")
    expect(tile(second, "Alex")).to_have_attribute("aria-label", "Alex, Acting host")
    expect(first.locator("#ctl-mute-all")).to_be_visible()
    expect(second.locator("#ctl-mute-all")).to_be_hidden()
    expect(second.locator(".tile__mute:not([hidden])")).to_have_count(0)

    # The room page says who leads the live call.
    room_page = people[1].context.new_page()
    room_page.goto(room.get_absolute_url())
    expect(room_page.locator("#acting-host")).to_have_text(
        "No host is in the call: Alex is the acting host."
    )

    # Alex mutes Sora, with the keyboard: Sora's own browser mutes and says who.
    mute = tile(first, "Sora").locator(".tile__mute")
    expect(mute).to_have_attribute("aria-label", "Mute Sora")
    mute.focus()
    first.keyboard.press("Enter")
    expect(second.locator("#banner")).to_have_text(
        "Alex muted you. Unmute yourself when you want to speak."
    )
    expect(second.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    assert mic_track_enabled(second) is False
    expect(tile(first, "Sora")).to_have_attribute("data-muted", "true")
    expect(mute).to_be_hidden()  # nothing left to ask

    # Sora unmutes herself; only she can. Then Alex mutes everyone.
    second.click("#ctl-mic")
    expect(tile(first, "Sora")).to_have_attribute("data-muted", "false")
    assert mic_track_enabled(second) is True
    first.locator("#ctl-mute-all").focus()
    first.keyboard.press("Enter")
    expect(second.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    expect(tile(first, "Sora")).to_have_attribute("data-muted", "true")
    expect(first.locator("#ctl-mic")).to_have_attribute("aria-pressed", "false")

    # The host comes back: the acting host steps down.
    host.click("#ended-rejoin")
    host.wait_for_selector("#join-button:not([disabled])")
    join(host)
    expect(first.locator("#banner")).to_have_text(
        "A host is in the call again: you are no longer the acting host."
    )
    expect(first.locator("#ctl-mute-all")).to_be_hidden()
    expect(first.locator(".tile[data-acting]")).to_have_count(0)
    expect(tile(second, "Alex")).to_have_attribute("aria-label", "Alex")
    room_page.reload()
    expect(room_page.locator("#acting-host")).to_have_count(0)
    for person in people:
        assert person.context.errors == []


def test_a_members_mute_request_is_refused_and_nobody_is_unmuted_remotely(
    call_server, new_context, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    contexts = [new_context(call_server, user) for user in (minji, alex, sora)]
    for context in contexts:
        context.add_init_script(WS_TAP)
    pages = []
    for context in contexts:
        page = open_call(context, room)
        join(page)
        pages.append(page)
    host, member, other = pages
    for page in pages:
        wait_for_peers(page, 2)

    # A member's forged mute request: refused, said so, and Sora keeps talking.
    error = forge(member, {"type": "mute", "peer": peer_id(member, "Sora"), "ref": "forged"})
    assert (error["code"], error["message"]) == ("forbidden", "Only hosts can ask people to mute.")
    error = forge(member, {"type": "mute", "all": True, "ref": "forged-all"})
    assert error["code"] == "forbidden"
    expect(member.locator("#banner")).to_have_text("Only a host can do that.")
    # The host's real request is the first Sora hears of.
    tile(host, "Sora").locator(".tile__mute").click()
    expect(other.locator("#banner")).to_have_text(
        "민지 muted you. Unmute yourself when you want to speak."
    )
    expect(other.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    expect(tile(member, "Sora")).to_have_attribute("data-muted", "true")

    # Not even a host can unmute anyone: there is no such message.
    error = forge(host, {"type": "unmute", "peer": peer_id(host, "Sora"), "ref": "unmute"})
    assert error["code"] == "forbidden"
    assert "unmuted remotely" in error["message"]
    error = forge(
        host, {"type": "mute", "peer": peer_id(host, "Sora"), "muted": False, "ref": "unmute-2"}
    )
    assert error["code"] == "forbidden"
    expect(other.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")
    assert mic_track_enabled(other) is False
    for context in contexts:
        assert context.errors == []  # type: ignore[attr-defined]
