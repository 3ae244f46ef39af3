from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from rooms.session import pending_invite_get

from .models import User


def user_display(user: User) -> str:
    """How allauth names the user in its pages and messages (``ACCOUNT_USER_DISPLAY``)."""
    return user.get_display_name()


# allauth ships no type hints: its classes are Any to mypy.
class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    # An explicit ?next= wins over these. They cover the ways of signing in
    # that lose it (a verification or password-reset email opened in the same
    # browser): an invite opened before signing in is still waiting.
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if pending_invite_get(request) is not None:
            return reverse("rooms:invite_confirm")
        return str(super().get_login_redirect_url(request))

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        if pending_invite_get(request) is not None:
            return reverse("rooms:invite_confirm")
        return str(super().get_signup_redirect_url(request))
