"""Reads for rooms, memberships and invites."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Count, F, OuterRef, QuerySet, Subquery, Value, When
from django.utils import timezone

from accounts.models import User

from .models import AuditEvent, Guest, Invite, Membership, Room


def rooms_for_user(*, user: User) -> QuerySet[Room]:
    """Rooms ``user`` may enter (owned or joined): open rooms newest first, then
    ended ones, most recently ended first. Annotated with ``member_count`` and
    ``my_role`` (``user``'s role there)."""
    mine = Membership.objects.filter(user=user)
    return (
        # A subquery, not a join on memberships: filtering through the join
        # would make member_count count only ``user``'s own membership.
        Room.objects.filter(pk__in=mine.values("room_id"))
        .select_related("owner")
        .annotate(
            member_count=Count("memberships"),
            my_role=Subquery(mine.filter(room=OuterRef("pk")).values("role")[:1]),
        )
        # NULLs sort first on SQLite and last on PostgreSQL unless told.
        .order_by(F("ended_at").desc(nulls_first=True), "-created_at")
    )


def membership_get(*, room: Room, user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(room=room, user=user).first()


def room_members(*, room: Room) -> QuerySet[Membership]:
    """The room's memberships, hosts first, then in the order people joined."""
    hosts_first = Case(When(role=Membership.Role.HOST, then=Value(0)), default=Value(1))
    return room.memberships.select_related("user").order_by(hosts_first, "created_at")


def invites_active(*, room: Room) -> QuerySet[Invite]:
    """Invites that can still be used, newest first."""
    return room.invites.select_related("created_by").usable()


def guests_active(*, room: Room) -> QuerySet[Guest]:
    """Guests whose access to the room has not ended (not removed, not
    expired), oldest first."""
    return room.guests.filter(removed_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "created_at"
    )


def audit_recent(*, room: Room, limit: int = 10) -> list[AuditEvent]:
    """The room's latest audit records, newest first, for its hosts."""
    return list(AuditEvent.objects.filter(room=room).select_related("actor", "target")[:limit])


@dataclass(frozen=True)
class JoinGrant:
    """What the signaling consumer needs to admit someone to a room's call."""

    room_id: int
    max_participants: int
    is_host: bool
    display_name: str
    # For the call's welcome message.
    room_name: str = ""
    is_locked: bool = False
    # A guest (rooms/guests.py): never a host, and always under their guest name.
    is_guest: bool = False
    # Non-hosts wait in the lobby until a host in the call admits them.
    lobby_enabled: bool = False


class JoinRefused(Exception):
    """Why a user may not join a room's call; ``reason`` is one of the constants."""

    NOT_FOUND = "not_found"
    NOT_MEMBER = "not_member"
    ENDED = "ended"
    LOCKED = "locked"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def call_join_check(*, slug: str, user: User) -> JoinGrant:
    """Decide whether ``user`` may join the call of the room ``slug``.

    One query when the answer is yes (every join storm pays it); a second
    only to tell "no such room" from "not a member".
    """
    membership = (
        Membership.objects.filter(room__slug=slug, user_id=user.pk)
        .select_related("room")
        .only(
            "role",
            "room__name",
            "room__max_participants",
            "room__is_locked",
            "room__lobby_enabled",
            "room__ended_at",
        )
        .first()
    )
    if membership is None:
        if Room.objects.filter(slug=slug).exists():
            raise JoinRefused(JoinRefused.NOT_MEMBER)
        raise JoinRefused(JoinRefused.NOT_FOUND)
    return call_join_grant(membership=membership, user=user)


def call_join_grant(*, membership: Membership, user: User) -> JoinGrant:
    """``call_join_check``'s decision for a membership already loaded (with its
    room): raises ``JoinRefused`` for an ended room, or a locked one for a
    non-host."""
    room = membership.room
    if room.ended_at is not None:
        raise JoinRefused(JoinRefused.ENDED)
    is_host = membership.role == Membership.Role.HOST
    if room.is_locked and not is_host:
        raise JoinRefused(JoinRefused.LOCKED)
    return JoinGrant(
        room_id=room.pk,
        max_participants=room.max_participants,
        is_host=is_host,
        display_name=user.get_display_name(),
        room_name=room.name,
        is_locked=room.is_locked,
        lobby_enabled=room.lobby_enabled,
    )


def guest_join_grant(*, guest: Guest) -> JoinGrant:
    """``call_join_grant`` for a guest (with its room loaded): an ended room
    refuses them, and so does a locked one (a guest is never a host)."""
    room = guest.room
    if room.ended_at is not None:
        raise JoinRefused(JoinRefused.ENDED)
    if room.is_locked:
        raise JoinRefused(JoinRefused.LOCKED)
    return JoinGrant(
        room_id=room.pk,
        max_participants=room.max_participants,
        is_host=False,
        display_name=guest.display_name,
        room_name=room.name,
        is_locked=room.is_locked,
        is_guest=True,
        lobby_enabled=room.lobby_enabled,
    )
