"""Files sent peer to peer on each pair's file channel: to everyone or to one
person, accepted first, byte-identical, limited in size, cancellable, never
through the server; a tampered-with sender loses the receiver nothing."""

import hashlib
import os
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.calls import join, make_room, open_call, start_call, wait_for_peers
from tests.browser.conftest import CALL_TEST_ENV

NAME = "보고서 <b>bold</b>.bin"

# Records every frame the page sends to the signaling server.
WS_RECORDER = """
(() => {
  if (window.__testWsSent) return;
  const sent = [];
  Object.defineProperty(window, "__testWsSent", { value: sent });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    sent.push(typeof data === "string" ? data : "[binary]");
    return send.call(this, data);
  };
})();
"""


def offer(page, name, data, to=None):
    """Send a file the way a person does: the file control, whom to, the picker."""
    page.click("#ctl-file")
    if to is not None:
        page.select_option("#file-to", label=to)
    with page.expect_file_chooser() as chooser:
        page.click("#file-choose")
    upload = {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    chooser.value.set_files(files=[upload])


def alex_id(page) -> str:
    return page.locator('.tile[data-name="Alex"]').get_attribute("data-peer-id") or ""


def save(page, entry) -> bytes:
    with page.expect_download() as download:
        entry.locator(".file__save").click()
    return Path(download.value.path()).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_file_is_accepted_then_arrives_byte_identical_over_limit_refused_cancel_works(
    start_server, new_context, make_user
):
    server = start_server({**CALL_TEST_ENV, "CALL_FILE_MAX_BYTES": "600000"})
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    sender, receiver = (p.page for p in start_call(new_context, server, room, [minji, alex]))
    for page in (sender, receiver):
        wait_for_peers(page, 1)

    data = os.urandom(500_000)
    offer(sender, NAME, data)
    incoming = receiver.locator('.file[data-direction="in"]')
    expect(incoming).to_have_attribute("data-state", "offered")
    # Shown as text; the folder separator is flattened.
    expect(incoming.locator(".file__name")).to_have_text("보고서 <b>bold<_b>.bin")
    expect(incoming.locator(".file__meta")).to_have_text("From 민지 · 500 kB")
    assert receiver.locator("#files-list b").count() == 0, "names are text, never markup"
    outgoing = sender.locator('.file[data-direction="out"]')
    # Nothing is sent before the receiver says yes.
    expect(outgoing).to_have_attribute("data-state", "waiting")
    assert outgoing.locator("progress").evaluate("(bar) => bar.value") == 0

    incoming.locator(".file__accept").click()
    expect(incoming).to_have_attribute("data-state", "done")
    expect(outgoing).to_have_attribute("data-state", "done")
    for entry in (incoming, outgoing):
        assert entry.locator("progress").evaluate("(bar) => bar.value") == len(data)
    assert sha(save(receiver, incoming)) == sha(data)
    # The list can be hidden; it comes back when something new happens.
    receiver.click("#files-close")
    expect(receiver.locator("#files")).to_be_hidden()

    # Over the limit: refused on the spot, with the limit in the message.
    offer(sender, "big.bin", os.urandom(700_000))
    expect(sender.locator("#files-notice")).to_have_text(
        "That file is too large: files can be at most 600 kB."
    )
    expect(receiver.locator(".file")).to_have_count(1)

    # Cancelled before it was accepted: the receiver can no longer take it.
    offer(sender, "later.txt", b"not now")
    expect(sender.locator("#files-notice")).to_be_hidden()
    later = receiver.locator('.file[data-state="offered"]')
    expect(later.locator(".file__name")).to_have_text("later.txt")
    expect(receiver.locator("#files")).to_be_visible()
    sender.locator('.file[data-state="waiting"] .file__cancel').click()
    cancelled = receiver.locator(".file", has_text="later.txt")
    expect(cancelled).to_have_attribute("data-state", "cancelled")
    expect(cancelled.locator(".file__status")).to_have_text("Cancelled")
    expect(cancelled.locator(".file__accept")).to_have_count(0)


def test_a_file_for_one_person_reaches_only_them_and_nothing_passes_the_server(
    call_server, new_context, make_user
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    pages = []
    for user in (minji, alex, sora):
        context = new_context(call_server, user)
        context.add_init_script(WS_RECORDER)
        pages.append(open_call(context, room))
        join(pages[-1])
    sender, alex_page, sora_page = pages
    for page in pages:
        wait_for_peers(page, 2)
    sender.click("#ctl-file")
    expect(sender.locator("#file-to option")).to_have_text(["Everyone", "Alex", "Sora"])
    sender.keyboard.press("Escape")
    expect(sender.locator("#file-picker")).to_be_hidden()

    private = os.urandom(300_000)
    offer(sender, "for-alex.bin", private, to="Alex")
    for_alex = alex_page.locator(".file", has_text="for-alex.bin")
    expect(for_alex).to_have_attribute("data-state", "offered")
    expect(sender.locator(".file")).to_have_count(1)
    expect(sender.locator(".file__meta")).to_have_text("To Alex · 300 kB")
    for_alex.locator(".file__accept").click()
    expect(for_alex).to_have_attribute("data-state", "done")
    assert sha(save(alex_page, for_alex)) == sha(private)

    shared = os.urandom(200_000)
    # The choice stays until changed: back to everyone.
    sender.click("#ctl-file")
    expect(sender.locator("#file-to")).to_have_value(alex_id(sender))
    sender.keyboard.press("Escape")
    offer(sender, "for-all.bin", shared, to="Everyone")
    for page in (alex_page, sora_page):
        expect(page.locator(".file", has_text="for-all.bin")).to_have_attribute(
            "data-state", "offered"
        )
    # Each pair's channel is ordered: had Alex's file been offered to Sora, its
    # offer would have reached her before this one.
    expect(sora_page.locator(".file")).to_have_count(1)
    expect(sender.locator(".file__meta")).to_have_text(
        ["To Sora · 200 kB", "To Alex · 200 kB", "To Alex · 300 kB"]
    )
    for_sora = sora_page.locator(".file", has_text="for-all.bin")
    for_sora.locator(".file__accept").click()
    alex_page.locator(".file", has_text="for-all.bin").locator(".file__decline").click()
    expect(for_sora).to_have_attribute("data-state", "done")
    assert sha(save(sora_page, for_sora)) == sha(shared)
    declined = sender.locator(".file", has_text="To Alex · 200 kB")
    expect(declined.locator(".file__status")).to_have_text("Declined")

    # The person chosen leaves while the picker is open: nobody gets the file.
    sender.click("#ctl-file")
    sender.select_option("#file-to", label="Alex")
    with sender.expect_file_chooser() as chooser:
        sender.click("#file-choose")
    alex_page.click("#ctl-leave")
    wait_for_peers(sender, 1)
    expect(sender.locator("#file-to option")).to_have_text(["Everyone", "Sora"])
    upload = {"name": "late.bin", "mimeType": "application/octet-stream", "buffer": b"late"}
    chooser.value.set_files(files=[upload])
    expect(sender.locator("#files-notice")).to_have_text(
        "Alex has left the call; the file was not sent."
    )
    expect(sender.locator(".file")).to_have_count(3)

    for page in (sender, sora_page):
        sent = page.evaluate("() => window.__testWsSent")
        assert sent, "the recorder saw the page's signaling"
        for frame in sent:
            assert '"file-' not in frame, frame
            assert ".bin" not in frame, frame
    assert sora_page.locator(".file").count() == 1


# What a tampered-with sender does on its file channel: junk, an offer that
# cannot be read, a file with more bytes than it offered, one that stalls.
FORGE_START = """
() => {
  const channel = window.__testChannels.find((c) => c.label === 'file' && c.readyState === 'open');
  const next = (type, id) => new Promise((resolve) => {
    const on = (event) => {
      if (typeof event.data !== 'string') return;
      const frame = JSON.parse(event.data);
      if (frame.type !== type || frame.id !== id) return;
      channel.removeEventListener('message', on);
      resolve(frame);
    };
    channel.addEventListener('message', on);
  });
  window.__forge = { channel, next, answers: {
    bad: next('file-decline', 'bad'),
    liar: next('file-accept', 'liar'),
    stall: next('file-accept', 'stall'),
  } };
  const send = (frame) => channel.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  for (const junk of ['not json', '[]', { type: 'file-start' }, { type: 'file-done', id: 'x' }]) {
    send(junk);
  }
  channel.send(new Uint8Array(64).buffer);
  send({ type: 'file-offer', id: 'bad', name: 'bad.bin', size: -1 });
  send({ type: 'file-offer', id: 'liar', name: 'liar.bin', size: 4 });
  send({ type: 'file-offer', id: 'stall', name: 'stall.bin', size: 1000 });
}
"""

FORGE_BYTES = """
async (id) => {
  const { channel, next, answers } = window.__forge;
  await answers[id];
  const cancelled = next('file-cancel', id);
  channel.send(JSON.stringify({ type: 'file-start', id }));
  channel.send(new Uint8Array(id === 'liar' ? 8 : 100).buffer);
  if (id === 'stall') window.__forge.cancelled = cancelled;
  else return await cancelled;
}
"""


def test_a_tampered_with_sender_gets_clear_errors_and_the_receiver_loses_nothing(
    call_server, new_context, make_user
):
    minji, alex = make_user("minji", "민지"), make_user("alex", "Alex")
    room = make_room(minji, members=[alex])
    people = start_call(new_context, call_server, room, [minji, alex])
    forger, receiver = (p.page for p in people)
    for page in (forger, receiver):
        wait_for_peers(page, 1)
    data = os.urandom(50_000)
    offer(forger, "honest.bin", data)
    honest = receiver.locator(".file", has_text="honest.bin")
    honest.locator(".file__accept").click()
    expect(honest).to_have_attribute("data-state", "done")

    forger.evaluate(FORGE_START)
    assert forger.evaluate("() => window.__forge.answers.bad") == {
        "type": "file-decline",
        "id": "bad",
        "reason": "malformed",
    }
    liar = receiver.locator(".file", has_text="liar.bin")
    stall = receiver.locator(".file", has_text="stall.bin")
    expect(liar).to_have_attribute("data-state", "offered")
    expect(receiver.locator(".file")).to_have_count(3)

    liar.locator(".file__accept").click()
    assert forger.evaluate(FORGE_BYTES, "liar")["reason"] == "too-many-bytes"
    expect(liar).to_have_attribute("data-state", "failed")
    expect(liar.locator(".file__status")).to_have_text(
        "They sent more bytes than they offered; the transfer was stopped."
    )
    expect(liar.locator(".file__save")).to_have_count(0)

    # The receiver cancels a file midway.
    stall.locator(".file__accept").click()
    forger.evaluate(FORGE_BYTES, "stall")
    expect(stall.locator("progress")).to_have_js_property("value", 100)
    stall.locator(".file__cancel").click()
    cancel = forger.evaluate("() => window.__forge.cancelled")
    assert cancel == {"type": "file-cancel", "id": "stall"}, "a person's cancel, no fault"
    expect(stall).to_have_attribute("data-state", "cancelled")

    # Nothing of the junk showed up, and the good file is still there, whole.
    assert sha(save(receiver, honest)) == sha(data)
    assert people[1].context.errors == []  # type: ignore[attr-defined]
