"""Reads for rooms, memberships and invites."""

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.models import User

from .models import Invite, Membership, Room


def rooms_for_user(*, user: User) -> QuerySet[Room]:
    """Rooms ``user`` may enter (owned or joined), newest first, with member counts."""
    return (
        Room.objects.filter(memberships__user=user)
        .select_related("owner")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("ended_at", "-created_at")
    )


def membership_get(*, room: Room, user: User) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(room=room, user=user).first()


def room_members(*, room: Room) -> QuerySet[Membership]:
    return room.memberships.select_related("user").order_by("-role", "created_at")


def invites_active(*, room: Room) -> QuerySet[Invite]:
    """Invites that can still be used, newest first."""
    now = timezone.now()
    return (
        room.invites.select_related("created_by")
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exclude(max_uses__isnull=False, use_count__gte=F("max_uses"))
    )


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
    """Decide whether ``user`` may join the call of the room ``slug`` (two queries)."""
    room = (
        Room.objects.filter(slug=slug)
        .only("pk", "name", "max_participants", "is_locked", "ended_at")
        .first()
    )
    if room is None:
        raise JoinRefused(JoinRefused.NOT_FOUND)
    role = (
        Membership.objects.filter(room_id=room.pk, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise JoinRefused(JoinRefused.NOT_MEMBER)
    if room.ended_at is not None:
        raise JoinRefused(JoinRefused.ENDED)
    is_host = role == Membership.Role.HOST
    if room.is_locked and not is_host:
        raise JoinRefused(JoinRefused.LOCKED)
    return JoinGrant(
        room_id=room.pk,
        max_participants=room.max_participants,
        is_host=is_host,
        display_name=user.get_display_name(),
        room_name=room.name,
        is_locked=room.is_locked,
    )
