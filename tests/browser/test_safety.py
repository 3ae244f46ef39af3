"""The mesh safety code and its warning, in real calls."""

from __future__ import annotations

import hashlib
import re

from playwright.sync_api import Page, expect

from tests.browser.calls import Person, join, make_room, open_call, tile, wait_for_peers

CODE = re.compile(r"^\d{4} \d{4} \d{4}$")

# Which chat channel belongs to which connection, so a test can speak on one
# pair only (the page's own recorder keeps channels without their connection).
PAIR_CHANNELS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__testPairChannels) return;
  const pairs = [];
  Object.defineProperty(window, "__testPairChannels", { value: pairs });
  const create = Native.prototype.createDataChannel;
  Native.prototype.createDataChannel = function (...args) {
    const channel = create.apply(this, args);
    pairs.push({ pc: this, channel });
    return channel;
  };
})();
"""

# Every a=fingerprint value of this page's live connections' current
# descriptions, local and remote.
FINGERPRINTS = """
() => window.__testPcs
  .filter((pc) => pc.connectionState !== "closed" && pc.currentRemoteDescription)
  .map((pc) => [pc.currentLocalDescription.sdp, pc.currentRemoteDescription.sdp]
    .map((sdp) => [...new Set(sdp.match(/^a=fingerprint:.*$/gm))]
      .map((line) => line.slice("a=fingerprint:".length).trim())))
"""

# On the forger's page, on its pair with the victim only: report that the
# forger's end uses a certificate it never used there (what the victim would
# hear if the server had put its own certificate into that pair's SDP).
TAMPER = """
([victimId, victimCerts]) => {
  const canon = (line) => line.replace(/^(\\S+) (.*)$/,
    (_, algorithm, digest) => `${algorithm.toLowerCase()} ${digest.toUpperCase()}`);
  const certOf = (sdp) => canon(sdp.match(/^a=fingerprint:(.*?)\\s*$/m)[1]);
  const pair = window.__testPairChannels.find(({ pc, channel }) =>
    channel.readyState === "open" && pc.currentRemoteDescription
    && victimCerts.includes(certOf(pc.currentRemoteDescription.sdp)));
  if (!pair) return false;
  const forged = `sha-256 ${Array(32).fill("AB").join(":")}`;
  pair.channel.send(JSON.stringify({ type: "fingerprints", mismatch: [], pairs: [
    { peer: victimId, local: forged, remote: certOf(pair.pc.currentRemoteDescription.sdp) },
  ] }));
  return true;
}
"""


# Notes whether the warning was ever shown on this page from now on.
WATCH_WARNING = """() => {
  const warning = document.getElementById("safety-warning");
  window.__warned = !warning.hidden;
  new MutationObserver(() => { window.__warned ||= !warning.hidden; })
    .observe(warning, { attributes: true });
}"""

# Close this page's connection to the person whose certificates are given:
# the pair is rebuilt (peer.js), with new certificates at both ends.
CLOSE_PAIR = """(theirs) => window.__testPcs
  .find((pc) => pc.connectionState === "connected" && theirs.some((cert) =>
    pc.currentRemoteDescription.sdp.toUpperCase().includes(cert.split(" ")[1])))
  .close()"""


def expected_code(fingerprints: list[str]) -> str:
    """The room code as docs/call.md defines it, computed here independently."""
    text = "\n".join(["meet mesh safety code v1", *sorted(fingerprints)])
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % 10**12
    digits = f"{number:012d}"
    return " ".join(digits[i : i + 4] for i in range(0, 12, 4))


def canonical(fingerprint: str) -> str:
    algorithm, digest = fingerprint.split(" ", 1)
    return f"{algorithm.lower()} {digest.upper()}"


def shoot(page: Page, artifacts_dir, name: str) -> None:
    """A screenshot for people to look at (test-artifacts/screenshots)."""
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=shots / f"safety-{name}.png")


def open_code(page: Page) -> None:
    page.click("#ctl-safety")
    expect(page.locator("#safety-details")).to_be_visible()


def shown_code(page: Page, status: str = "verified") -> str:
    expect(page.locator("#safety-details")).to_have_attribute("data-status", status, timeout=15_000)
    code = page.locator("#safety-code")
    expect(code).to_have_text(CODE)
    return code.inner_text()


def start(new_context, server, room, users, tamper_index: int | None = None) -> list[Person]:
    people = []
    for index, user in enumerate(users):
        context = new_context(server, user)
        if index == tamper_index:
            context.add_init_script(PAIR_CHANNELS)
        page = open_call(context, room)
        join(page)
        people.append(Person(user, context, page))
    return people


def test_codes_are_equal_on_every_page_of_a_clean_call_and_follow_who_is_there(
    call_server, new_context, make_user, artifacts_dir
):
    minji, alex, sora = make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora")
    room = make_room(minji, members=[alex, sora])
    pages = [person.page for person in start(new_context, call_server, room, [minji, alex, sora])]
    for page in pages:
        wait_for_peers(page, 2, timeout=20_000)
        open_code(page)
    codes = [shown_code(page) for page in pages]
    assert len(set(codes)) == 1, codes
    # The code is the one of every certificate of the mesh (each pair's two,
    # as the browsers negotiated them), whoever computes it.
    seen = {canonical(fp) for page in pages for pc in page.evaluate(FINGERPRINTS) for fp in pc[0]}
    assert len(seen) == 6, seen  # three pairs, a certificate at each end
    assert codes[0] == expected_code(sorted(seen))
    shoot(pages[0], artifacts_dir, "code")
    for page in pages:
        expect(page.locator("#safety-status")).to_have_text(
            "Both ends of every connection see the same keys."
        )
        expect(page.locator("#ctl-safety")).to_have_attribute(
            "aria-label", "Security code (Both ends of every connection see the same keys.)"
        )
        expect(page.locator("#safety-warning")).to_be_hidden()

    # Sora leaves: the two left get a new code, the same on both pages.
    pages[2].keyboard.press("Escape")
    pages[2].click("#ctl-leave")
    for page in pages[:2]:
        wait_for_peers(page, 1)
        expect(page.locator("#safety-code")).not_to_have_text(codes[0], timeout=10_000)
    after = [shown_code(page) for page in pages[:2]]
    assert after[0] == after[1] != codes[0]
    for page in pages[:2]:
        assert page.context.errors == []  # type: ignore[attr-defined]


def test_a_tampered_report_on_one_pair_warns_every_page(
    call_server, new_context, make_user, artifacts_dir
):
    minji, alex, sora = (
        make_user("minji", "민지"),
        make_user("alex", "Alex"),
        make_user("sora", "소라"),
    )
    room = make_room(minji, members=[alex, sora])
    people = start(new_context, call_server, room, [minji, alex, sora], tamper_index=1)
    first, forger, third = (person.page for person in people)
    for page in (first, forger, third):
        wait_for_peers(page, 2, timeout=20_000)
        open_code(page)
        shown_code(page)
        page.keyboard.press("Escape")

    # Alex's page lies to 민지's page only, on their pair's channel.
    victim_id = tile(forger, "민지").get_attribute("data-peer-id")
    victim_certs = [canonical(fp) for pc in first.evaluate(FINGERPRINTS) for fp in pc[0]]
    assert forger.evaluate(TAMPER, [victim_id, victim_certs])
    # Every page names the pair, whoever found it: 민지's page itself, and from
    # its report Alex's (which sent the lie) and 소라's (which heard none of it).
    for page, names in (
        (first, re.compile(r"^Connection between (you and Alex|Alex and you)$")),
        (forger, re.compile(r"^Connection between (민지 and you|you and 민지)$")),
        (third, re.compile(r"^Connection between (민지 and Alex|Alex and 민지)$")),
    ):
        warning = page.get_by_role("alert").filter(has_text="Security warning")
        expect(warning).to_be_visible(timeout=10_000)
        expect(page.locator("#safety-warning-pairs li")).to_have_text([names])
        expect(page.locator("#ctl-safety")).to_have_attribute("data-status", "mismatch")
    shoot(third, artifacts_dir, "warning")
    # From the warning to the code, with the keyboard.
    third.locator("#safety-warning-show").focus()
    third.keyboard.press("Enter")
    expect(third.locator("#safety-details")).to_be_visible()
    expect(third.locator("#safety-status")).to_have_text("The keys of a connection do not match.")


def test_a_rebuilt_pair_gives_everyone_a_new_equal_code_without_a_warning(
    call_server, new_context, make_user
):
    users = [make_user("minji", "민지"), make_user("alex", "Alex"), make_user("sora", "소라")]
    room = make_room(users[0], members=users[1:])
    pages = [person.page for person in start(new_context, call_server, room, users)]
    for page in pages:
        wait_for_peers(page, 2, timeout=20_000)
        open_code(page)
    before = shown_code(pages[0])
    for page in pages:
        assert shown_code(page) == before
        page.evaluate(WATCH_WARNING)

    # 민지's connection to Alex is destroyed: both ends rebuild it, and the
    # reports of its new certificates cross those of the old ones.
    alex_certs = [canonical(fp) for pc in pages[1].evaluate(FINGERPRINTS) for fp in pc[0]]
    pages[0].evaluate(CLOSE_PAIR, alex_certs)
    for page in pages:
        expect(page.locator("#safety-code")).not_to_have_text(before, timeout=20_000)
        wait_for_peers(page, 2, timeout=20_000)
    after = [shown_code(page) for page in pages]
    assert after[0] == after[1] == after[2] != before
    seen = {canonical(fp) for page in pages for pc in page.evaluate(FINGERPRINTS) for fp in pc[0]}
    assert after[0] == expected_code(sorted(seen))
    for page in pages:
        assert page.evaluate("() => window.__warned") is False
        assert page.context.errors == []  # type: ignore[attr-defined]
