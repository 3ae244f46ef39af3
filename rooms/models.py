import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
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


class Invite(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        USED_UP = "used_up", _("Used up")

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
    # Only the hash is stored: the link is shown once, when it is created.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        _("maximum uses"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty means unlimited."),
    )
    use_count = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

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
        """Why this invite can or cannot be used right now; revocation wins over
        expiry, which wins over use count."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return self.Status.EXPIRED
        if self.max_uses is not None and self.use_count >= self.max_uses:
            return self.Status.USED_UP
        return self.Status.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status() == self.Status.ACTIVE
