"""ICE servers and TURN REST credentials (coturn use-auth-secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from signaling.turn import ice_config, turn_credential


def test_nothing_configured_means_no_servers(settings):
    settings.STUN_URLS, settings.TURN_URLS, settings.TURN_SECRET = [], [], ""
    config = ice_config(42, now=1_000)
    assert config == {"servers": [], "policy": "all", "expires": 1_000 + 3600}


def test_stun_only(settings):
    settings.STUN_URLS = ["stun:a:3478", "stun:b:3478"]
    settings.TURN_URLS = []
    assert ice_config(1, now=0)["servers"] == [{"urls": ["stun:a:3478", "stun:b:3478"]}]


def test_turn_credentials_are_what_coturn_computes(settings):
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:t:3478?transport=udp", "turns:t:5349?transport=tcp"]
    settings.TURN_SECRET = "north-wind"
    settings.TURN_CREDENTIAL_TTL = 600
    settings.ICE_TRANSPORT_POLICY = "relay"
    config = ice_config(42, now=1_763_722_200.7)
    assert config["expires"] == 1_763_722_800
    assert config["policy"] == "relay"
    (turn,) = config["servers"]
    assert turn["urls"] == ["turn:t:3478?transport=udp", "turns:t:5349?transport=tcp"]
    assert turn["username"] == "1763722800:42"
    expected = base64.b64encode(
        hmac.new(b"north-wind", b"1763722800:42", hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected == turn_credential("north-wind", "1763722800:42")


def test_turn_without_secret_is_left_out_and_flagged(settings):
    from signaling.checks import turn_settings

    settings.TURN_URLS = ["turn:t:3478"]
    settings.TURN_SECRET = ""
    assert ice_config(1)["servers"] == []
    assert [message.id for message in turn_settings(None)] == ["signaling.W001"]
    settings.TURN_SECRET = "x"
    assert turn_settings(None) == []


def test_credentials_differ_per_member_and_over_time(settings):
    settings.TURN_URLS = ["turn:t:3478"]
    settings.TURN_SECRET = "s"
    first = ice_config(1, now=100)["servers"][-1]
    assert first["credential"] != ice_config(2, now=100)["servers"][-1]["credential"]
    assert first["credential"] != ice_config(1, now=200)["servers"][-1]["credential"]


def test_secret_never_logged(settings, caplog):
    settings.TURN_URLS = ["turn:t:3478"]
    settings.TURN_SECRET = "very-secret-value"
    with caplog.at_level(logging.DEBUG):
        ice_config(1)
    assert "very-secret-value" not in caplog.text
