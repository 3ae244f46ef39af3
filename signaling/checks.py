"""System checks for the signaling settings (run by ``manage.py check``).

Each catches a configuration that starts fine and then fails only in a call:
no TURN server offered, a relay-only policy with nothing to relay through,
ICE URLs the browser refuses, credentials that are dead on arrival.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .origin import allowed_origins

# A leaked TURN credential is useful to anyone until it expires.
MAX_CREDENTIAL_TTL = 24 * 3600
ICE_SCHEMES = {"STUN_URLS": ("stun", "stuns"), "TURN_URLS": ("turn", "turns")}


@register()
def turn_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    turn_offered = bool(settings.TURN_URLS and settings.TURN_SECRET)
    if settings.TURN_URLS and not settings.TURN_SECRET:
        messages.append(
            Warning(
                "TURN_URLS is set but TURN_SECRET is not, so no TURN server is offered.",
                hint="Set TURN_SECRET to coturn's static-auth-secret.",
                id="signaling.W001",
            )
        )
    if settings.TURN_SECRET and not settings.TURN_URLS:
        messages.append(
            Warning(
                "TURN_SECRET is set but TURN_URLS is not, so no TURN server is offered.",
                hint="Set TURN_URLS, e.g. turn:turn.example.com:3478?transport=udp.",
                id="signaling.W002",
            )
        )
    if settings.ICE_TRANSPORT_POLICY == "relay" and not turn_offered:
        messages.append(
            Warning(
                "ICE_TRANSPORT_POLICY is 'relay' but no TURN server is offered: "
                "no call can connect.",
                hint="Set TURN_URLS and TURN_SECRET, or ICE_TRANSPORT_POLICY=all.",
                id="signaling.W003",
            )
        )
    for setting, schemes in ICE_SCHEMES.items():
        for url in getattr(settings, setting):
            if url.partition(":")[0].lower() not in schemes:
                messages.append(
                    Warning(
                        f"{setting} has {url!r}, which is not a {' or '.join(schemes)}: URL. "
                        "Browsers refuse the whole ICE configuration, so no call can start.",
                        hint=f"e.g. {schemes[0]}:turn.example.com:3478",
                        id="signaling.W004",
                    )
                )
    if turn_offered and not 0 < settings.TURN_CREDENTIAL_TTL <= MAX_CREDENTIAL_TTL:
        messages.append(
            Warning(
                f"TURN_CREDENTIAL_TTL is {settings.TURN_CREDENTIAL_TTL} seconds: credentials "
                + (
                    "expire before they are used."
                    if settings.TURN_CREDENTIAL_TTL <= 0
                    else "stay useful for more than a day if they leak."
                ),
                hint="One hour (3600) is a good value; browsers fetch new ones before expiry.",
                id="signaling.W005",
            )
        )
    return messages


@register()
def origin_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        allowed_origins()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="e.g. WS_ALLOWED_ORIGINS=https://meet.example.com",
                id="signaling.E001",
            )
        ]
    return []
