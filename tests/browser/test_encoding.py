"""Per-receiver encoding in a real 3-person call: each receiver tells the
sender how big its video is on screen, and the sender encodes each copy for
that receiver. A receiver with a small tile gets a smaller resolution than
one with a large tile, from the same sender, and the copies together stay
within the video budget."""

from playwright.sync_api import Page

from tests.browser.calls import Person, join, make_room, open_call, tile, wait_for_peers
from tests.browser.conftest import CALL_TEST_ENV

BUDGET_KBPS = 2500
ENV = {**CALL_TEST_ENV, "CALL_VIDEO": "640x360@15", "CALL_VIDEO_BUDGET_KBPS": str(BUDGET_KBPS)}

# Our video senders' encodings and what they sent, over `ms` milliseconds.
SENDING = """async (ms) => {
    const pcs = window.__testPcs.filter((pc) => pc.connectionState === "connected");
    const sent = async () => {
        let bytes = 0;
        for (const pc of pcs) {
            (await pc.getStats()).forEach((s) => {
                if (s.type === "outbound-rtp" && s.kind === "video") bytes += s.bytesSent;
            });
        }
        return bytes;
    };
    const before = await sent();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const kbps = ((await sent()) - before) * 8 / ms;
    const encodings = pcs.map((pc) => {
        const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
        return sender.getParameters().encodings[0];
    });
    return { kbps, encodings };
}"""


def video_height(page: Page, name: str) -> int:
    return tile(page, name).locator("video").evaluate("(v) => v.videoHeight")


def test_a_small_tile_gets_a_smaller_copy_and_the_uplink_stays_in_budget(
    start_server, new_context, make_user
):
    server = start_server(ENV)
    minji, alex, sora = (
        make_user("minji", "민지"),
        make_user("alex", "Alex"),
        make_user("sora", "Sora"),
    )
    room = make_room(minji, members=[alex, sora])
    viewports = {"minji": (1280, 800), "alex": (1280, 800), "sora": (420, 300)}
    people = []
    for user in (minji, alex, sora):
        width, height = viewports[user.username]
        context = new_context(server, user, viewport={"width": width, "height": height})
        page = open_call(context, room)
        join(page)
        people.append(Person(user, context, page))
    for person in people:
        wait_for_peers(person.page, 2, timeout=20_000)
    sender, large, small = (person.page for person in people)

    # Alex shows 민지 large: full resolution. Sora's tiny window: a smaller copy.
    large.wait_for_function(
        "() => [...document.querySelectorAll('.tile[data-name=\"민지\"] video')]"
        ".some((v) => v.videoHeight === 360)",
        timeout=20_000,
    )
    small.wait_for_function(
        "() => [...document.querySelectorAll('.tile[data-name=\"민지\"] video')]"
        ".some((v) => v.videoHeight > 0 && v.videoHeight < 200)",
        timeout=20_000,
    )
    assert video_height(small, "민지") < video_height(large, "민지")

    sending = sender.evaluate(SENDING, 3000)
    scales = sorted(e.get("scaleResolutionDownBy", 1) for e in sending["encodings"])
    assert scales[0] == 1
    assert scales[1] > 1
    caps = [e["maxBitrate"] for e in sending["encodings"]]
    assert sum(caps) <= BUDGET_KBPS * 1000
    assert len(set(caps)) == 2  # one copy per receiver, each its own
    assert sending["kbps"] <= BUDGET_KBPS * 1.1
    for person in people:
        assert person.context.errors == []
