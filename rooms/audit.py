"""Who is acting, and the audit record each change writes.

Services take ``by``: the signed-in person (whose rights in the room are
checked), ``Admin(user)`` for a staff member in Django admin (the admin site
has checked their model permissions already), or ``None`` for the system
itself (a management command or a script). Each change writes exactly one
``AuditEvent`` through ``audit_record``, inside the change's own transaction,
so a change and its record are committed or rolled back together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounts.models import User

from .models import ADMIN_ACTOR_PREFIX, SYSTEM_ACTOR, AuditEvent, Invite, Room


@dataclass(frozen=True)
class Admin:
    """A staff member acting in Django admin."""

    user: User


Actor = User | Admin | None


def actor_user(by: Actor) -> User | None:
    """The person behind ``by``, if there is one."""
    if isinstance(by, Admin):
        return by.user
    return by


def actor_label(by: Actor) -> str:
    if isinstance(by, Admin):
        return ADMIN_ACTOR_PREFIX + by.user.get_username()
    if by is None:
        return SYSTEM_ACTOR
    return by.get_username()


def audit_record(
    *,
    action: AuditEvent.Action,
    room: Room,
    by: Actor,
    target: User | None = None,
    invite: Invite | None = None,
    details: dict[str, Any] | None = None,
    target_label: str = "",
) -> AuditEvent:
    """Write one audit record. Call it inside the transaction that makes the
    change, after the permission check (a refused action records nothing)."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor_user(by),
        actor_label=actor_label(by),
        room=room if room.pk is not None else None,
        room_code=room.slug,
        room_name=room.name,
        target=target,
        target_label=target.get_username() if target is not None else target_label,
        invite=invite,
        details=details or {},
    )
