"""ICE servers for one member: STUN as configured, TURN with short-lived
REST credentials (coturn ``use-auth-secret``).

The shared secret stays in settings and in this module's HMAC; it is never
logged and never leaves the server. Only the derived credential, valid until
``expires``, goes to the member's browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings


def turn_credential(secret: str, username: str) -> str:
    """base64(HMAC-SHA1(secret, username)), the password coturn expects."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def ice_config(user_id: int, now: float | None = None) -> dict[str, Any]:
    """The ``ice`` object of ``welcome`` and ``ice-servers`` (docs/protocol.md).

    ``expires`` is always a number, also without TURN, so a client can
    schedule its refresh the same way in every deployment.
    """
    expires = int(time.time() if now is None else now) + int(settings.TURN_CREDENTIAL_TTL)
    servers: list[dict[str, Any]] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username = f"{expires}:{int(user_id)}"
        servers.append(
            {
                "urls": list(settings.TURN_URLS),
                "username": username,
                "credential": turn_credential(settings.TURN_SECRET, username),
            }
        )
    return {"servers": servers, "policy": settings.ICE_TRANSPORT_POLICY, "expires": expires}
