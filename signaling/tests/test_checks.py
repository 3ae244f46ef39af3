"""The signaling settings checks (signaling/checks.py), as ``manage.py check`` runs them."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

TURN = ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"]


def check_ids() -> list[str]:
    return [str(m.id) for m in run_checks() if str(m.id).startswith("signaling.")]


def test_a_complete_turn_configuration_is_silent(settings):
    settings.STUN_URLS = ["stun:turn.example.com:3478"]
    settings.TURN_URLS = TURN
    settings.TURN_SECRET = "s3cret"
    settings.ICE_TRANSPORT_POLICY = "relay"
    assert check_ids() == []


def test_nothing_configured_is_silent(settings):
    settings.STUN_URLS = settings.TURN_URLS = []
    settings.TURN_SECRET = ""
    assert check_ids() == []


def test_turn_urls_without_a_secret_are_reported(settings):
    settings.TURN_URLS = TURN
    settings.TURN_SECRET = ""
    assert check_ids() == ["signaling.W001"]


def test_a_secret_without_turn_urls_is_reported(settings):
    settings.TURN_URLS = []
    settings.TURN_SECRET = "s3cret"
    assert check_ids() == ["signaling.W002"]


@pytest.mark.parametrize(("urls", "secret"), [([], ""), (TURN, "")])
def test_relay_only_without_a_turn_server_is_reported(urls, secret, settings):
    settings.TURN_URLS = urls
    settings.TURN_SECRET = secret
    settings.ICE_TRANSPORT_POLICY = "relay"
    assert "signaling.W003" in check_ids()


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        ("TURN_URLS", "turn.example.com:3478"),
        ("TURN_URLS", "https://turn.example.com"),
        ("STUN_URLS", "turn:turn.example.com:3478"),  # TURN without credentials
        ("STUN_URLS", "stun.example.com"),
    ],
)
def test_an_ice_url_the_browser_refuses_is_reported(setting, url, settings):
    settings.TURN_URLS = TURN
    settings.TURN_SECRET = "s3cret"
    setattr(settings, setting, [url])
    assert check_ids() == ["signaling.W004"]


@pytest.mark.parametrize("ttl", [0, -5, 7 * 24 * 3600])
def test_a_credential_lifetime_out_of_range_is_reported(ttl, settings):
    settings.TURN_URLS = TURN
    settings.TURN_SECRET = "s3cret"
    settings.TURN_CREDENTIAL_TTL = ttl
    assert check_ids() == ["signaling.W005"]
