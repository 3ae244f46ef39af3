import unicodedata
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import GUEST_NAME_MAX_LENGTH, MAX_PARTICIPANTS, MIN_PARTICIPANTS, Membership, Room

INVITE_MAX_USES_LIMIT = 100

PARTICIPANT_CHOICES = [(n, str(n)) for n in range(MIN_PARTICIPANTS, MAX_PARTICIPANTS + 1)]

EXPIRY_CHOICES = [
    ("1h", _("1 hour")),
    ("1d", _("1 day")),
    ("7d", _("7 days")),
    ("never", _("Never")),
]
EXPIRY_DELTAS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "never": None,
}
EXPIRY_DEFAULT = "1d"


class RoomForm(forms.ModelForm[Room]):
    """Create a room or change its settings."""

    max_participants = forms.TypedChoiceField(
        label=_("Maximum participants"),
        choices=PARTICIPANT_CHOICES,
        coerce=int,
        initial=MAX_PARTICIPANTS,
        help_text=_("How many people can be in the call at once."),
    )

    class Meta:
        model = Room
        fields = ["name", "max_participants"]
        labels = {"name": _("Meeting name")}
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": _("e.g. Weekly sync"), "autofocus": True})
        }


class RoomSettingsForm(RoomForm):
    """A room's settings page: what creating one asks, and the lobby."""

    class Meta(RoomForm.Meta):
        fields = ["name", "max_participants", "lobby_enabled"]
        labels = {"name": _("Meeting name"), "lobby_enabled": _("Lobby")}


class InviteForm(forms.Form):
    """How long a new invite link works and how many people may use it."""

    expires_in = forms.ChoiceField(
        label=_("Expires after"), choices=EXPIRY_CHOICES, initial=EXPIRY_DEFAULT
    )
    max_uses = forms.IntegerField(
        label=_("Maximum uses"),
        required=False,
        min_value=1,
        max_value=INVITE_MAX_USES_LIMIT,
        help_text=_("Leave empty for no limit."),
    )
    allow_guests = forms.BooleanField(
        label=_("Allow guests (no account needed)"),
        required=False,
        help_text=_("People without an account can join the call with a display name."),
    )

    def clean_expires_in(self) -> timedelta | None:
        return EXPIRY_DELTAS[self.cleaned_data["expires_in"]]


class LockForm(forms.Form):
    action = forms.ChoiceField(choices=[("lock", _("Lock")), ("unlock", _("Unlock"))])

    @property
    def locked(self) -> bool:
        return bool(self.cleaned_data["action"] == "lock")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


# Bidirectional overrides and isolates: they would reorder the text around a name.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class GuestForm(forms.Form):
    """The display name a guest joins with."""

    display_name = forms.CharField(
        label=_("Your name"),
        max_length=GUEST_NAME_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": _("Enter the name the others will see."),
            "max_length": _("Use at most %(limit_value)d characters (this has %(show_value)d)."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )

    def clean_display_name(self) -> str:
        name: str = self.cleaned_data["display_name"]
        for char in name:
            if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
                raise ValidationError(
                    _("The name contains characters that cannot be shown (control characters)."),
                    code="control",
                )
        return name
