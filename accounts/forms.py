from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import DISPLAY_NAME_MAX_LENGTH, User


class SignupForm(forms.Form):
    """Extra fields for allauth's signup form (``ACCOUNT_SIGNUP_FORM_CLASS``)."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=DISPLAY_NAME_MAX_LENGTH,
        required=False,
        help_text=_("Shown to other people in meetings. Leave empty to use your username."),
    )

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data["display_name"].split())

    def signup(self, request: HttpRequest, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"]
        user.save(update_fields=["display_name"])


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["display_name"]

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data["display_name"].split())
