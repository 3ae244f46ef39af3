"""Files sent peer to peer on each pair's file channel: accepted first,
byte-identical, limited in size, cancellable."""

import hashlib
import os
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.calls import make_room, start_call, wait_for_peers
from tests.browser.conftest import CALL_TEST_ENV

NAME = "보고서 <b>bold</b>.bin"


def offer(page, name, data):
    upload = {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    page.set_input_files("#file-input", files=[upload])


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
    assert incoming.locator("progress").evaluate("(bar) => bar.value") == len(data)
    with receiver.expect_download() as download:
        incoming.locator(".file__save").click()
    saved = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(saved).hexdigest() == hashlib.sha256(data).hexdigest()
    assert download.value.suggested_filename.endswith(".bin")

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
    sender.locator('.file[data-state="waiting"] .file__cancel').click()
    cancelled = receiver.locator(".file", has_text="later.txt")
    expect(cancelled).to_have_attribute("data-state", "cancelled")
    expect(cancelled.locator(".file__status")).to_have_text("Cancelled")
    expect(cancelled.locator(".file__accept")).to_have_count(0)
