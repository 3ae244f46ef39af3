import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 4

# Meeting-code style slugs ("xkq-mdwt-pzr"): easy to read aloud, 47 bits of
# randomness, and never sequential. Membership still decides who may enter.
SLUG_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
SLUG_GROUPS = (3, 4, 3)
SLUG_LENGTH = sum(SLUG_GROUPS) + len(SLUG_GROUPS) - 1


def generate_slug() -> str:
    return "-".join(
        "".join(secrets.choice(SLUG_ALPHABET) for _ in range(size)) for size in SLUG_GROUPS
    )


def hash_token(token: str) -> str:
    """Invite tokens carry 256 random bits, so a plain SHA-256 is enough to make
    the stored value useless to someone who reads the database."""
    return hashlib.sha256(token.encode()).hexdigest()


class Room(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="owned_rooms",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    slug = models.CharField(
        _("meeting code"),
        max_length=SLUG_LENGTH,
        unique=True,
        default=generate_slug,
        editable=False,
    )
    max_participants = models.PositiveSmallIntegerField(
        _("maximum participants"),
        default=MAX_PARTICIPANTS,
        validators=[MinValueValidator(MIN_PARTICIPANTS), MaxValueValidator(MAX_PARTICIPANTS)],
        help_text=_("How many people can be in the call at once (2–4)."),
    )
    is_locked = models.BooleanField(
        _("locked"), default=False, help_text=_("Only hosts can join a locked meeting.")
    )
    lobby_enabled = models.BooleanField(
        _("lobby"),
        default=False,
        help_text=_("People wait in a lobby until a host in the call admits them."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_participants__gte=MIN_PARTICIPANTS)
                & Q(max_participants__lte=MAX_PARTICIPANTS),
                name="room_max_participants_2_to_4",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("rooms:detail", kwargs={"slug": self.slug})

    def get_call_url(self) -> str:
        return reverse("rooms:call", kwargs={"slug": self.slug})

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None


class Membership(models.Model):
    class Role(models.TextChoices):
        HOST = "host", _("Host")
        MEMBER = "member", _("Member")

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("joined"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="membership_unique_room_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room} ({self.get_role_display()})"

    def clean(self) -> None:
        is_owner = self.room_id is not None and self.user_id == self.room.owner_id
        if is_owner and self.role != self.Role.HOST:
            raise ValidationError({"role": _("The owner is always a host.")})

    @property
    def is_host(self) -> bool:
        return self.role == self.Role.HOST


class InviteQuerySet(models.QuerySet["Invite"]):
    def with_status(self, status: str, *, now: datetime | None = None) -> "InviteQuerySet":
        """The invites whose ``Invite.status(now)`` is ``status``."""
        return self.filter(invite_status_q(status, now=now))

    def usable(self, *, now: datetime | None = None) -> "InviteQuerySet":
        return self.with_status(Invite.Status.ACTIVE, now=now)


class Invite(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        USED_UP = "used_up", _("Used up")

    class Kind(models.TextChoices):
        # Created on the room page: the link is shown once, then only its hash remains.
        LINK = "link", _("Invite link")
        # "Copy invite link" in a call: its creator can copy the same link again.
        CALL = "call", _("From a call")

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="invites", verbose_name=_("room")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=Kind.choices, default=Kind.LINK, editable=False
    )
    # Only the hash is stored: the link is shown once, when it is created.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    # Call invites only: the token is an HMAC of this seed under SECRET_KEY, so
    # the server can show the link again while the database alone cannot.
    token_seed = models.CharField(max_length=32, blank=True, default="", editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        _("maximum uses"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty means unlimited."),
    )
    use_count = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    allow_guests = models.BooleanField(
        _("guests allowed"),
        default=False,
        help_text=_("People without an account can join the call with a display name."),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = InviteQuerySet.as_manager()

    class Meta:
        verbose_name = _("invite")
        verbose_name_plural = _("invites")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1),
                name="invite_max_uses_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(use_count__lte=F("max_uses")),
                name="invite_use_count_within_max_uses",
            ),
        ]

    def __str__(self) -> str:
        return _("Invite to %(room)s") % {"room": self.room}

    def status(self, now: datetime | None = None) -> "Invite.Status":
        """Why this invite can or cannot be used right now (``INVITE_BLOCKERS``)."""
        now = now or timezone.now()
        for blocker in INVITE_BLOCKERS:
            if blocker.applies(self, now):
                return blocker.status
        return self.Status.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status() == self.Status.ACTIVE

    def call_token(self) -> str | None:
        """The token of a call invite, recomputed; ``None`` for other invites,
        or once ``SECRET_KEY`` has changed since the invite was made."""
        if self.kind != self.Kind.CALL or not self.token_seed:
            return None
        token = call_token_for(self.token_seed)
        return token if hash_token(token) == self.token_hash else None


GUEST_NAME_MAX_LENGTH = 50


class Guest(models.Model):
    """Someone in one room's call through an invite that allows guests, with
    a display name and no account. A guest is never a member: they see the
    call page of that room and nothing else. In signaling a guest's
    participant id is ``-pk`` (users' ids are positive), see docs/protocol.md."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="guests", verbose_name=_("room")
    )
    invite = models.ForeignKey(
        Invite, on_delete=models.CASCADE, related_name="guests", verbose_name=_("invite")
    )
    display_name = models.CharField(_("display name"), max_length=GUEST_NAME_MAX_LENGTH)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    # Set when the guest was removed (invite revoked, meeting ended, removed by a host).
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("guest")
        verbose_name_plural = _("guests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["room", "-created_at"], name="guest_room_recent")]

    def __str__(self) -> str:
        return _("%(name)s (guest)") % {"name": self.display_name}

    @property
    def participant_id(self) -> int:
        return -self.pk


def call_token_for(seed: str) -> str:
    digest = salted_hmac("rooms.Invite.call_token", seed, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class InviteBlocker:
    """One reason an invite cannot be used, written once in both forms: as a
    database filter and as a test of a loaded invite."""

    status: Invite.Status
    q: Callable[[datetime], Q]
    applies: Callable[[Invite, datetime], bool]


# The rule for a usable invite: none of these holds. Order is precedence
# (revocation wins over expiry, which wins over use count).
INVITE_BLOCKERS: tuple[InviteBlocker, ...] = (
    InviteBlocker(
        Invite.Status.REVOKED,
        lambda now: Q(revoked_at__isnull=False),
        lambda invite, now: invite.revoked_at is not None,
    ),
    InviteBlocker(
        Invite.Status.EXPIRED,
        lambda now: Q(expires_at__lte=now),
        lambda invite, now: invite.expires_at is not None and invite.expires_at <= now,
    ),
    InviteBlocker(
        Invite.Status.USED_UP,
        lambda now: Q(max_uses__isnull=False, use_count__gte=F("max_uses")),
        lambda invite, now: invite.max_uses is not None and invite.use_count >= invite.max_uses,
    ),
)


def invite_status_q(status: str, *, now: datetime | None = None) -> Q:
    """A filter matching the invites whose ``Invite.status(now)`` is ``status``:
    its own blocker holds and none that takes precedence does."""
    now = now or timezone.now()
    statuses = [blocker.status for blocker in INVITE_BLOCKERS]
    earlier: tuple[InviteBlocker, ...]
    own: InviteBlocker | None
    if status == Invite.Status.ACTIVE:
        earlier, own = INVITE_BLOCKERS, None
    elif status in statuses:
        index = statuses.index(Invite.Status(status))
        earlier, own = INVITE_BLOCKERS[:index], INVITE_BLOCKERS[index]
    else:
        raise ValueError(f"Unknown invite status {status!r}")
    q = own.q(now) if own is not None else Q()
    for blocker in earlier:
        q &= ~blocker.q(now)
    return q


class AuditEvent(models.Model):
    """Who did what to a room, written by the services in the same transaction
    as the change itself. Labels keep the record readable after the people,
    room or invite it names are gone. Never holds invite tokens or TURN
    credentials."""

    class Action(models.TextChoices):
        ROOM_CREATED = "room.created", _("Meeting created")
        ROOM_UPDATED = "room.updated", _("Settings changed")
        ROOM_LOCKED = "room.locked", _("Meeting locked")
        ROOM_UNLOCKED = "room.unlocked", _("Meeting unlocked")
        ROOM_ENDED = "room.ended", _("Meeting ended")
        ROOM_REOPENED = "room.reopened", _("Meeting reopened")
        ROOM_DELETED = "room.deleted", _("Meeting deleted")
        INVITE_CREATED = "invite.created", _("Invite link created")
        INVITE_REVOKED = "invite.revoked", _("Invite link revoked")
        MEMBER_JOINED = "member.joined", _("Joined through an invite link")
        MEMBER_LEFT = "member.left", _("Left the room")
        MEMBER_REMOVED = "member.removed", _("Removed from the room")
        MEMBER_PROMOTED = "member.promoted", _("Made a host")
        MEMBER_DEMOTED = "member.demoted", _("Host rights taken away")
        MEMBER_KICKED = "member.kicked", _("Removed from the call")
        GUEST_JOINED = "guest.joined", _("Guest joined through an invite link")

    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The actor's username, "admin:<username>" in Django admin, or "system".
    actor_label = models.CharField(_("actor"), max_length=160)
    room = models.ForeignKey(
        Room,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("room"),
    )
    room_code = models.CharField(_("meeting code"), max_length=SLUG_LENGTH)
    room_name = models.CharField(_("meeting name"), max_length=80)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person affected"),
    )
    target_label = models.CharField(_("person affected"), max_length=150, blank=True)
    invite = models.ForeignKey(
        Invite,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("invite"),
    )
    # Non-secret facts about the change: old and new settings, an invite's limits.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["room", "-created_at"], name="audit_room_recent"),
            models.Index(fields=["-created_at"], name="audit_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.get_action_display()} ({self.room_code})"

    @property
    def by_admin(self) -> bool:
        return self.actor_label.startswith(ADMIN_ACTOR_PREFIX)

    def summary(self) -> str:
        """One sentence for the room page, naming people as others see them."""
        if self.by_admin:
            actor = str(_("An administrator"))
        elif self.actor is not None:
            actor = self.actor.get_display_name()
        elif self.actor_label == SYSTEM_ACTOR:
            actor = str(_("The system"))
        else:
            actor = self.actor_label
        target = self.target.get_display_name() if self.target is not None else self.target_label
        return str(AUDIT_SUMMARIES[self.action]) % {"actor": actor, "target": target}


ADMIN_ACTOR_PREFIX = "admin:"
SYSTEM_ACTOR = "system"

AUDIT_SUMMARIES: dict[str, Promise] = {
    AuditEvent.Action.ROOM_CREATED: _("%(actor)s created the meeting"),
    AuditEvent.Action.ROOM_UPDATED: _("%(actor)s changed the meeting settings"),
    AuditEvent.Action.ROOM_LOCKED: _("%(actor)s locked the meeting"),
    AuditEvent.Action.ROOM_UNLOCKED: _("%(actor)s unlocked the meeting"),
    AuditEvent.Action.ROOM_ENDED: _("%(actor)s ended the meeting"),
    AuditEvent.Action.ROOM_REOPENED: _("%(actor)s reopened the meeting"),
    AuditEvent.Action.ROOM_DELETED: _("%(actor)s deleted the meeting"),
    AuditEvent.Action.INVITE_CREATED: _("%(actor)s created an invite link"),
    AuditEvent.Action.INVITE_REVOKED: _("%(actor)s revoked an invite link"),
    AuditEvent.Action.MEMBER_JOINED: _("%(actor)s joined through an invite link"),
    AuditEvent.Action.MEMBER_LEFT: _("%(actor)s left the room"),
    AuditEvent.Action.MEMBER_REMOVED: _("%(actor)s removed %(target)s from the room"),
    AuditEvent.Action.MEMBER_PROMOTED: _("%(actor)s made %(target)s a host"),
    AuditEvent.Action.MEMBER_DEMOTED: _("%(actor)s took host rights from %(target)s"),
    AuditEvent.Action.MEMBER_KICKED: _("%(actor)s removed %(target)s from the call"),
    AuditEvent.Action.GUEST_JOINED: _("%(target)s joined as a guest through an invite link"),
}
