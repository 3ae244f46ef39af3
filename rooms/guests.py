"""Guest passes: what lets someone without an account into one room's call.

A guest (``rooms.models.Guest``) is created through an invite that allows
guests (``services.guest_join``). The browser then holds a *guest pass* in
its server-side session: the guest's id and room, signed with
``django.core.signing`` under ``GUEST_PASS_SALT`` and good for
``GUEST_LIFETIME`` seconds. A pass counts only while its guest row agrees:
the same room, not removed (invite revoked, meeting ended) and not expired.
Anything else (a forged, tampered, expired or foreign pass) is no pass at all.

The call page (``views.room_call``) and the signaling consumer
(``signaling.access``) both read passes through ``guest_for_pass``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone

from .models import Guest, Room

GUEST_PASS_KEY = "guest_pass"  # noqa: S105  (a session key name, not a secret)
GUEST_PASS_SALT = "rooms.guest-pass"  # noqa: S105  (a signing salt, not a secret)


def pass_issue(guest: Guest) -> str:
    return signing.dumps({"guest": guest.pk, "room": guest.room_id}, salt=GUEST_PASS_SALT)


def pass_claim(value: Any) -> tuple[int, int] | None:
    """(guest id, room id) from a pass whose signature holds and whose age is
    within ``GUEST_LIFETIME``; ``None`` for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        data = signing.loads(value, salt=GUEST_PASS_SALT, max_age=settings.GUEST_LIFETIME)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict):
        return None
    guest_id, room_id = data.get("guest"), data.get("room")
    if type(guest_id) is not int or type(room_id) is not int or guest_id <= 0:
        return None
    return guest_id, room_id


def guest_usable(guest: Guest | None, *, room_id: int | None = None) -> bool:
    """Whether ``guest`` may still be in its room's call."""
    if guest is None or guest.removed_at is not None:
        return False
    if guest.expires_at <= timezone.now():
        return False
    return room_id is None or guest.room_id == room_id


def guest_for_pass(value: Any, *, slug: str) -> Guest | None:
    """The guest a pass admits to the room ``slug`` (with its room loaded), or ``None``."""
    claim = pass_claim(value)
    if claim is None:
        return None
    guest_id, room_id = claim
    guest = Guest.objects.select_related("room").filter(pk=guest_id, room_id=room_id).first()
    if guest is None or guest.room.slug != slug or not guest_usable(guest, room_id=room_id):
        return None
    return guest


def guest_pass_set(request: HttpRequest, guest: Guest) -> None:
    """Keep the guest's pass in the session (one room at a time)."""
    request.session[GUEST_PASS_KEY] = pass_issue(guest)


def guest_from_request(request: HttpRequest, room: Room) -> Guest | None:
    return guest_for_pass(request.session.get(GUEST_PASS_KEY), slug=room.slug)


def has_guest_pass(request: HttpRequest) -> bool:
    return bool(request.session.get(GUEST_PASS_KEY))
