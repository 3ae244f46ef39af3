"""Writes for rooms, memberships and invites.

Views, the admin and the signaling consumer all go through these functions;
each checks its own permission rule and raises ``PermissionDenied`` when the
acting user may not do it. Live calls are told about changes only after the
transaction commits.
"""

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from signaling import events

from .models import Invite, Membership, Room, generate_slug, hash_token

INVITE_TOKEN_BYTES = 32


class InviteInvalid(Exception):
    """The token does not lead to a usable invite; ``reason`` says why."""

    UNKNOWN = "unknown"

    def __init__(self, reason: str, invite: Invite | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invite = invite


def _require_host(*, room: Room, user: User) -> Membership:
    membership = Membership.objects.filter(room=room, user=user).first()
    if membership is None or not membership.is_host:
        raise PermissionDenied(_("Only a host of this room can do that."))
    return membership


def room_create(*, owner: User, name: str, max_participants: int = 4) -> Room:
    """Create a room; its owner becomes its first host."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room(owner=owner, name=name, max_participants=max_participants)
                room.slug = generate_slug()
                # The database's unique index catches a slug collision (retried
                # below); full_clean's own uniqueness query would only race it.
                room.full_clean(validate_unique=False)
                room.save()
                Membership.objects.create(room=room, user=owner, role=Membership.Role.HOST)
                return room
        except IntegrityError:
            # A slug collision (1 in 2**47 per pair); anything else repeats and is raised.
            if not Room.objects.filter(slug=room.slug).exists():
                raise
    raise IntegrityError("Could not find a free meeting code.")


def room_update(*, room: Room, by: User, name: str, max_participants: int) -> Room:
    """Rename a room or change its seat count (hosts only)."""
    _require_host(room=room, user=by)
    room.name = name
    room.max_participants = max_participants
    room.full_clean()
    room.save(update_fields=["name", "max_participants"])
    return room


def room_set_locked(*, room: Room, by: User | None, locked: bool) -> Room:
    """Lock or unlock a room. A locked room admits only hosts; people already in
    the call stay. ``by=None`` is the admin acting."""
    if by is not None:
        _require_host(room=room, user=by)
    Room.objects.filter(pk=room.pk).update(is_locked=locked)
    room.is_locked = locked
    return room


def room_end(*, room: Room, by: User | None) -> Room:
    """End the meeting: everyone in the call is disconnected and nobody can join
    until a host reopens the room. ``by=None`` is the admin acting."""
    if by is not None:
        _require_host(room=room, user=by)
    if room.ended_at is None:
        room.ended_at = timezone.now()
        Room.objects.filter(pk=room.pk).update(ended_at=room.ended_at)
    room_id = room.pk
    transaction.on_commit(lambda: events.room_ended(room_id=room_id))
    return room


def room_reopen(*, room: Room, by: User | None) -> Room:
    """Allow joining an ended room again (hosts only, or the admin with ``by=None``)."""
    if by is not None:
        _require_host(room=room, user=by)
    Room.objects.filter(pk=room.pk).update(ended_at=None)
    room.ended_at = None
    return room


def room_delete(*, room: Room, by: User | None) -> None:
    """Delete a room with its memberships and invites (owner only, or the admin).
    Anyone still in its call is disconnected."""
    if by is not None and room.owner_id != by.pk:
        raise PermissionDenied(_("Only the owner can delete this room."))
    room_id = room.pk
    room.delete()
    transaction.on_commit(lambda: events.room_ended(room_id=room_id))


def invite_create(
    *,
    room: Room,
    created_by: User,
    expires_in: timedelta | None = None,
    max_uses: int | None = None,
) -> tuple[Invite, str]:
    """Create an invite link (hosts only). Returns the invite and its token; the
    token is not stored anywhere and cannot be shown again."""
    _require_host(room=room, user=created_by)
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive")
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    invite = Invite(
        room=room,
        created_by=created_by,
        token_hash=hash_token(token),
        expires_at=timezone.now() + expires_in if expires_in is not None else None,
        max_uses=max_uses,
    )
    invite.full_clean()
    invite.save()
    return invite, token


def invite_get_by_token(*, token: str) -> Invite:
    """The usable invite behind ``token``, or ``InviteInvalid`` saying why not."""
    invite = (
        Invite.objects.select_related("room", "created_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invite is None:
        raise InviteInvalid(InviteInvalid.UNKNOWN)
    status = invite.status()
    if status != Invite.Status.ACTIVE:
        raise InviteInvalid(status, invite)
    return invite


def invite_accept(*, token: str, user: User) -> Membership:
    """Make ``user`` a member of the invite's room.

    Idempotent for someone who is already a member: they get their membership
    back and no use is consumed, even if the link has since expired, been
    revoked or used up. Otherwise the membership is created and one use is
    consumed in the same transaction, by a conditional update, so ``max_uses``
    holds under concurrent accepts and a double submit counts once.
    """
    invite = (
        Invite.objects.select_related("room", "created_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invite is None:
        raise InviteInvalid(InviteInvalid.UNKNOWN)
    existing = Membership.objects.filter(room_id=invite.room_id, user=user).first()
    if existing is not None:
        return existing
    now = timezone.now()
    status = invite.status(now)
    if status != Invite.Status.ACTIVE:
        raise InviteInvalid(status, invite)
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            room_id=invite.room_id, user=user, defaults={"role": Membership.Role.MEMBER}
        )
        if not created:
            # The same person accepted concurrently (a double submit): one use.
            return membership
        consumed = (
            Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .filter(Q(max_uses__isnull=True) | Q(use_count__lt=F("max_uses")))
            .update(use_count=F("use_count") + 1)
        )
        if not consumed:
            # Someone else took the last use (or a host revoked the link) since
            # the check above; raising rolls the new membership back.
            invite.refresh_from_db()
            raise InviteInvalid(invite.status(now), invite)
    return membership


def invite_revoke(*, invite: Invite, by: User | None) -> Invite:
    """Revoke an invite (hosts only, or the admin with ``by=None``). Memberships
    it already created stay."""
    if by is not None:
        _require_host(room=invite.room, user=by)
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        Invite.objects.filter(pk=invite.pk).update(revoked_at=invite.revoked_at)
    return invite


def membership_remove(*, membership: Membership, by: User | None) -> None:
    """Remove someone from a room: a host removes others, anyone may leave.

    The owner cannot leave or be removed (they delete the room instead). If the
    removed person is in the call, their connection is closed.
    """
    room = membership.room
    if membership.user_id == room.owner_id:
        raise PermissionDenied(_("The owner cannot leave the room; delete it instead."))
    if by is not None and by.pk != membership.user_id:
        _require_host(room=room, user=by)
    room_id, user_id = room.pk, membership.user_id
    membership.delete()
    transaction.on_commit(lambda: events.member_removed(room_id=room_id, user_id=user_id))


def membership_set_role(*, membership: Membership, by: User | None, role: str) -> Membership:
    """Make a member a host or back (hosts only). The owner always stays a host."""
    if by is not None:
        _require_host(room=membership.room, user=by)
    if membership.user_id == membership.room.owner_id and role != Membership.Role.HOST:
        raise PermissionDenied(_("The owner is always a host."))
    membership.role = Membership.Role(role)
    membership.save(update_fields=["role"])
    return membership
