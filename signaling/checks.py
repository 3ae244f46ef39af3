"""System checks for the signaling settings (run by ``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .origin import allowed_origins


@register()
def turn_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.TURN_URLS and not settings.TURN_SECRET:
        return [
            Warning(
                "TURN_URLS is set but TURN_SECRET is not, so no TURN server is offered.",
                hint="Set TURN_SECRET to coturn's static-auth-secret.",
                id="signaling.W001",
            )
        ]
    return []


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
