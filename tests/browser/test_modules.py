"""The call modules' pure functions, imported into a real page."""

from tests.browser.calls import make_room, open_call


def test_budget_backoff_and_session_id_rules(call_server, new_context, make_user):
    minji = make_user("minji")
    page = open_call(new_context(call_server, minji), make_room(minji))
    result = page.evaluate(
        """async () => {
            const { videoEncodingFor, rtcConfiguration } = await import('/static/js/call/mesh.js');
            const { backoffDelay } = await import('/static/js/call/signaling.js');
            const { shouldReconnect } = await import('/static/js/call/protocol.js');
            const { sdpSessionId } = await import('/static/js/call/peer.js');
            const budget = { videoKbps: 2500, perPeerMaxKbps: 1500 };
            const delays = [0, 1, 2, 3, 10].map((n) => backoffDelay(n));
            return {
                one: videoEncodingFor(1, budget),
                two: videoEncodingFor(2, budget),
                three: videoEncodingFor(3, budget),
                screen: videoEncodingFor(3, budget, true),
                delays,
                reconnect: [1001, 1006, 1011, 1012, 4408].map(shouldReconnect),
                final: [1000, 4000, 4001, 4400, 4401, 4403, 4404, 4409, 4410, 4413, 4423, 4429]
                    .map(shouldReconnect),
                relay: rtcConfiguration({ servers: [], policy: 'relay' }).iceTransportPolicy,
                session: sdpSessionId('v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\n'),
            };
        }"""
    )
    # maxFramerate is undefined (None here) for a camera: "remove any cap".
    assert result["one"] == {
        "maxBitrate": 1_500_000,
        "scaleResolutionDownBy": 1,
        "maxFramerate": None,
    }
    assert result["two"] == {
        "maxBitrate": 1_250_000,
        "scaleResolutionDownBy": 1,
        "maxFramerate": None,
    }
    assert result["three"] == {
        "maxBitrate": 833_333,
        "scaleResolutionDownBy": 1.5,
        "maxFramerate": None,
    }
    assert result["screen"] == {
        "maxBitrate": 833_333,
        "scaleResolutionDownBy": 1,
        "maxFramerate": 15,
    }
    low, high = [125, 250, 500, 1000, 5000], [250, 500, 1000, 2000, 10000]
    for delay, lo, hi in zip(result["delays"], low, high, strict=True):
        assert lo <= delay <= hi
    assert all(result["reconnect"])
    assert not any(result["final"])
    assert result["relay"] == "relay"
    assert result["session"] == "4611731400430051336"
