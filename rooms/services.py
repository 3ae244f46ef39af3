"""Writes for rooms, memberships and invites.

Views, the admin and the signaling consumer all go through these functions.
Each checks its own permission rule and raises ``PermissionDenied`` when the
acting person may not do it (``by``: see ``rooms.audit``), then makes its
change and writes its one audit record in a single transaction. A change
that does not happen (locking a locked room, a second revoke) records
nothing. Live calls are told about changes only after the transaction
commits, and a transaction the database aborted for a conflict is run again
(``meet.db.retry_when_busy``).
"""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from meet.db import retry_when_busy
from signaling import events

from .audit import Actor, Admin, audit_record
from .models import (
    AuditEvent,
    Guest,
    Invite,
    Membership,
    Room,
    call_token_for,
    generate_slug,
    hash_token,
)

INVITE_TOKEN_BYTES = 32
CALL_TOKEN_SEED_BYTES = 16

Action = AuditEvent.Action


class InviteInvalid(Exception):
    """The token does not lead to a usable invite; ``reason`` says why."""

    UNKNOWN = "unknown"
    # Only for guests: members may still open an ended meeting's room page.
    ROOM_ENDED = "room_ended"

    def __init__(self, reason: str, invite: Invite | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invite = invite


def _require_host(*, room: Room, by: Actor) -> None:
    """People need to be a host of the room; the admin and the system pass."""
    if by is None or isinstance(by, Admin):
        return
    membership = Membership.objects.filter(room=room, user=by).first()
    if membership is None or not membership.is_host:
        raise PermissionDenied(_("Only a host of this room can do that."))


def _is_integrity_error(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError)


# --- Rooms -------------------------------------------------------------------------


@retry_when_busy()
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
                audit_record(action=Action.ROOM_CREATED, room=room, by=owner)
                return room
        except IntegrityError:
            # A slug collision (1 in 2**47 per pair); anything else repeats and is raised.
            if not Room.objects.filter(slug=room.slug).exists():
                raise
    raise IntegrityError("Could not find a free meeting code.")


@retry_when_busy()
def room_update(
    *,
    room: Room,
    by: Actor,
    name: str,
    max_participants: int,
    lobby_enabled: bool | None = None,
) -> Room:
    """Rename a room, change its seat count or turn its lobby on or off
    (hosts only; ``lobby_enabled`` ``None`` leaves the lobby as it is)."""
    _require_host(room=room, by=by)
    fields = ("name", "max_participants", "lobby_enabled")
    # As stored: a ModelForm has already written the new values into ``room``.
    before = Room.objects.filter(pk=room.pk).values(*fields).first() or {
        key: getattr(room, key) for key in fields
    }
    room.name = name
    room.max_participants = max_participants
    if lobby_enabled is not None:
        room.lobby_enabled = lobby_enabled
    room.full_clean()
    after = {key: getattr(room, key) for key in fields}
    changed = {key: [before[key], value] for key, value in after.items() if before[key] != value}
    with transaction.atomic():
        room.save(update_fields=list(fields))
        if changed:
            audit_record(action=Action.ROOM_UPDATED, room=room, by=by, details=changed)
        if "lobby_enabled" in changed:
            _tell_lobby(room.pk, room.lobby_enabled)
    return room


def _tell_lobby(room_id: int, on: bool) -> None:
    transaction.on_commit(lambda: events.lobby_changed(room_id=room_id, on=on))


@retry_when_busy()
def room_set_lobby(*, room: Room, by: Actor, on: bool) -> Room:
    """Turn the room's lobby on or off (hosts only): with it on, everyone but
    the room's hosts waits until a host in the call admits them
    (signaling/lobby.py). Audited as a settings change; everyone in the call
    is told after commit."""
    _require_host(room=room, by=by)
    with transaction.atomic():
        if Room.objects.filter(pk=room.pk, lobby_enabled=not on).update(lobby_enabled=on):
            details = {"lobby_enabled": [not on, on]}
            audit_record(action=Action.ROOM_UPDATED, room=room, by=by, details=details)
        room.lobby_enabled = on
        # Also when nothing changed: whoever asked is told the state as it is.
        _tell_lobby(room.pk, on)
    return room


@retry_when_busy()
def room_set_locked(*, room: Room, by: Actor, locked: bool) -> Room:
    """Lock or unlock a room. A locked room admits only hosts; people already in
    the call stay."""
    _require_host(room=room, by=by)
    with transaction.atomic():
        changed = Room.objects.filter(pk=room.pk, is_locked=not locked).update(is_locked=locked)
        if changed:
            action = Action.ROOM_LOCKED if locked else Action.ROOM_UNLOCKED
            audit_record(action=action, room=room, by=by)
    room.is_locked = locked
    return room


@retry_when_busy()
def room_end(*, room: Room, by: Actor) -> Room:
    """End the meeting: everyone in the call is disconnected and nobody can join
    until a host reopens the room."""
    _require_host(room=room, by=by)
    with transaction.atomic():
        ended_at = timezone.now()
        if Room.objects.filter(pk=room.pk, ended_at__isnull=True).update(ended_at=ended_at):
            room.ended_at = ended_at
            audit_record(action=Action.ROOM_ENDED, room=room, by=by)
        # Guests' passes end with the meeting: reopening it does not bring them back.
        Guest.objects.filter(room=room, removed_at__isnull=True).update(removed_at=ended_at)
        room_id = room.pk
        # Also when it had ended already: whoever is still connected leaves.
        transaction.on_commit(lambda: events.room_ended(room_id=room_id))
    return room


@retry_when_busy()
def room_reopen(*, room: Room, by: Actor) -> Room:
    """Allow joining an ended room again (hosts only)."""
    _require_host(room=room, by=by)
    with transaction.atomic():
        if Room.objects.filter(pk=room.pk, ended_at__isnull=False).update(ended_at=None):
            audit_record(action=Action.ROOM_REOPENED, room=room, by=by)
    room.ended_at = None
    return room


# A membership or record added while the room's dependants were being
# collected breaks the delete's foreign keys; collecting again sees it.
@retry_when_busy(also=_is_integrity_error)
def room_delete(*, room: Room, by: Actor) -> None:
    """Delete a room with its memberships and invites (owner only, or the admin).
    Anyone still in its call is disconnected. Its audit trail stays, naming
    the room by its code."""
    if isinstance(by, User) and room.owner_id != by.pk:
        raise PermissionDenied(_("Only the owner can delete this room."))
    room_id = room.pk
    with transaction.atomic():
        audit_record(action=Action.ROOM_DELETED, room=room, by=by)
        # By primary key: a failed attempt leaves ``room`` without one.
        Room.objects.filter(pk=room_id).delete()
        transaction.on_commit(lambda: events.room_ended(room_id=room_id))


# --- Invites -----------------------------------------------------------------------


def _invite_details(invite: Invite) -> dict[str, object]:
    return {
        "kind": invite.kind,
        "expires_at": invite.expires_at.isoformat() if invite.expires_at else None,
        "max_uses": invite.max_uses,
        "allow_guests": invite.allow_guests,
    }


@retry_when_busy()
def invite_create(
    *,
    room: Room,
    created_by: User,
    expires_in: timedelta | None = None,
    max_uses: int | None = None,
    kind: str = Invite.Kind.LINK,
    allow_guests: bool = False,
) -> tuple[Invite, str]:
    """Create an invite link (hosts only). Returns the invite and its token; the
    token is not stored anywhere. A link invite's token cannot be shown again;
    a call invite's can, to its creator (``Invite.call_token``)."""
    _require_host(room=room, by=created_by)
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive")
    seed = ""
    if kind == Invite.Kind.CALL:
        seed = secrets.token_hex(CALL_TOKEN_SEED_BYTES)
        token = call_token_for(seed)
    else:
        token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    invite = Invite(
        room=room,
        created_by=created_by,
        kind=Invite.Kind(kind),
        token_hash=hash_token(token),
        token_seed=seed,
        expires_at=timezone.now() + expires_in if expires_in is not None else None,
        max_uses=max_uses,
        allow_guests=allow_guests,
    )
    invite.full_clean()
    with transaction.atomic():
        invite.save()
        audit_record(
            action=Action.INVITE_CREATED,
            room=room,
            by=created_by,
            invite=invite,
            details=_invite_details(invite),
        )
    return invite, token


def invite_get_or_create_for_call(
    *,
    room: Room,
    created_by: User,
    lifetime: timedelta,
    reuse_for_at_least: timedelta,
    allow_guests: bool = False,
) -> tuple[Invite, str, bool]:
    """The link a host copies from a call: their own call invite for this room
    while it stays usable for at least ``reuse_for_at_least``, else a new one
    valid for ``lifetime``. Returns the invite, its token and whether it was
    created now (hosts only)."""
    _require_host(room=room, by=created_by)
    now = timezone.now()
    reusable = (
        Invite.objects.usable(now=now)
        .filter(
            room=room,
            created_by=created_by,
            kind=Invite.Kind.CALL,
            allow_guests=allow_guests,
            expires_at__gt=now + reuse_for_at_least,
        )
        .order_by("-expires_at")
    )
    for invite in reusable[:3]:
        token = invite.call_token()
        if token is not None:
            return invite, token, False
    invite, token = invite_create(
        room=room,
        created_by=created_by,
        expires_in=lifetime,
        kind=Invite.Kind.CALL,
        allow_guests=allow_guests,
    )
    return invite, token, True


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


@retry_when_busy()
def invite_accept(*, token: str, user: User) -> Membership:
    """Make ``user`` a member of the invite's room.

    Idempotent for someone who is already a member: they get their membership
    back and no use is consumed, even if the link has since expired, been
    revoked or used up. Otherwise the membership is created, one use is
    consumed (by a conditional update, so ``max_uses`` holds under concurrent
    accepts and a double submit counts once) and the invite that admitted
    them is recorded, all in one transaction.
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
            Invite.objects.usable(now=now).filter(pk=invite.pk).update(use_count=F("use_count") + 1)
        )
        if not consumed:
            # Someone else took the last use (or a host revoked the link) since
            # the check above; raising rolls the new membership back.
            invite.refresh_from_db()
            raise InviteInvalid(invite.status(now), invite)
        audit_record(action=Action.MEMBER_JOINED, room=invite.room, by=user, invite=invite)
    return membership


@retry_when_busy()
def invite_revoke(*, invite: Invite, by: Actor) -> Invite:
    """Revoke an invite (hosts only). Memberships it already created stay;
    guests it let in are removed at once (their sockets close with 4411)."""
    _require_host(room=invite.room, by=by)
    with transaction.atomic():
        revoked_at = timezone.now()
        if Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(
            revoked_at=revoked_at
        ):
            invite.revoked_at = revoked_at
            audit_record(action=Action.INVITE_REVOKED, room=invite.room, by=by, invite=invite)
        _guests_remove(Guest.objects.filter(invite=invite), room_id=invite.room_id, at=revoked_at)
    return invite


# --- Guests ------------------------------------------------------------------------


def _guests_remove(guests: "QuerySet[Guest]", *, room_id: int, at: datetime) -> None:
    """Mark ``guests`` removed and, after commit, close their sockets (4411)."""
    ids = list(guests.filter(removed_at__isnull=True).values_list("pk", flat=True))
    if not ids:
        return
    Guest.objects.filter(pk__in=ids).update(removed_at=at)
    participants = [-pk for pk in ids]
    transaction.on_commit(
        lambda: events.guests_removed(room_id=room_id, participant_ids=participants)
    )


@retry_when_busy()
def guest_remove(*, guest: Guest, by: Actor) -> None:
    """Remove one guest from the room (hosts, the admin): their pass stops
    working and their sockets close with 4411."""
    _require_host(room=guest.room, by=by)
    with transaction.atomic():
        _guests_remove(Guest.objects.filter(pk=guest.pk), room_id=guest.room_id, at=timezone.now())


@retry_when_busy()
def guest_join(*, token: str, display_name: str, lifetime: timedelta) -> Guest:
    """Let someone without an account into the invite's room as a guest.

    The invite must be usable and allow guests; one use is consumed by a
    conditional update (``max_uses`` holds under concurrent joins, as for
    ``invite_accept``), and the guest and its audit record are written in
    the same transaction. The guest's access ends after ``lifetime``, or
    earlier when the invite is revoked or the meeting ends.
    """
    invite = Invite.objects.select_related("room").filter(token_hash=hash_token(token)).first()
    if invite is None:
        raise InviteInvalid(InviteInvalid.UNKNOWN)
    now = timezone.now()
    status = invite.status(now)
    if status != Invite.Status.ACTIVE:
        raise InviteInvalid(status, invite)
    if not invite.allow_guests:
        raise PermissionDenied(_("This invite link does not allow guests."))
    if invite.room.ended_at is not None:
        raise InviteInvalid(InviteInvalid.ROOM_ENDED, invite)
    guest = Guest(
        room=invite.room, invite=invite, display_name=display_name, expires_at=now + lifetime
    )
    guest.full_clean(exclude=["room", "invite"])
    with transaction.atomic():
        consumed = (
            Invite.objects.usable(now=now)
            .filter(pk=invite.pk, allow_guests=True)
            .update(use_count=F("use_count") + 1)
        )
        if not consumed:
            invite.refresh_from_db()
            raise InviteInvalid(invite.status(now), invite)
        guest.save()
        audit_record(
            action=Action.GUEST_JOINED,
            room=invite.room,
            by=None,
            invite=invite,
            target_label=display_name,
        )
    return guest


# --- Memberships -------------------------------------------------------------------


@retry_when_busy()
def membership_remove(*, membership: Membership, by: Actor) -> None:
    """Remove someone from a room: a host removes others, anyone may leave.

    The owner cannot leave or be removed (they delete the room instead). If the
    removed person is in the call, their connection is closed.
    """
    room = membership.room
    if membership.user_id == room.owner_id:
        raise PermissionDenied(_("The owner cannot leave the room; delete it instead."))
    leaving = isinstance(by, User) and by.pk == membership.user_id
    if not leaving:
        _require_host(room=room, by=by)
    room_id, user_id = room.pk, membership.user_id
    with transaction.atomic():
        deleted, _rows = Membership.objects.filter(pk=membership.pk).delete()
        if deleted:
            if leaving:
                audit_record(action=Action.MEMBER_LEFT, room=room, by=by)
            else:
                audit_record(action=Action.MEMBER_REMOVED, room=room, by=by, target=membership.user)
        transaction.on_commit(lambda: events.member_removed(room_id=room_id, user_id=user_id))


@retry_when_busy()
def membership_set_role(*, membership: Membership, by: Actor, role: str) -> Membership:
    """Make a member a host or back (hosts only). The owner always stays a host."""
    _require_host(room=membership.room, by=by)
    new_role = Membership.Role(role)
    if membership.user_id == membership.room.owner_id and new_role != Membership.Role.HOST:
        raise PermissionDenied(_("The owner is always a host."))
    with transaction.atomic():
        changed = (
            Membership.objects.filter(pk=membership.pk).exclude(role=new_role).update(role=new_role)
        )
        if changed:
            promoted = new_role == Membership.Role.HOST
            action = Action.MEMBER_PROMOTED if promoted else Action.MEMBER_DEMOTED
            audit_record(action=action, room=membership.room, by=by, target=membership.user)
    membership.role = new_role
    return membership


def call_kick_record(*, room_id: int, by: User, target_user_id: int) -> AuditEvent | None:
    """Record that a host removed someone from the live call (the signaling
    consumer does the removal; a membership stays). A guest has no
    membership to come back with: removed from the call, their pass ends
    too (``target_user_id`` is a guest's participant id, ``-guest.pk``)."""
    room = Room.objects.filter(pk=room_id).first()
    if room is None:
        return None
    if target_user_id < 0:
        guest = Guest.objects.filter(pk=-target_user_id, room=room).first()
        with transaction.atomic():
            if guest is not None:
                _guests_remove(
                    Guest.objects.filter(pk=guest.pk), room_id=room.pk, at=timezone.now()
                )
            label = guest.display_name if guest is not None else ""
            return audit_record(action=Action.MEMBER_KICKED, room=room, by=by, target_label=label)
    target = User.objects.filter(pk=target_user_id).first()
    with transaction.atomic():
        return audit_record(action=Action.MEMBER_KICKED, room=room, by=by, target=target)
