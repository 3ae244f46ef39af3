"""allauth's sign-up form, saving the new account in one transaction.

Its own ``save`` writes the user, then the display name, then the email
address, each on its own; a database too busy for the second write would
leave half an account behind (the username taken, no email address). Here
the password is hashed first (slow on purpose, and on SQLite a transaction
holds the write lock from its first statement), then all three writes
commit together or not at all. Wired in through ``ACCOUNT_FORMS``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.models import EmailAddress
from allauth.account.utils import setup_user_email
from django.db import transaction
from django.http import HttpRequest


# allauth ships no type hints: its classes are Any to mypy.
class SignupForm(AllauthSignupForm):  # type: ignore[misc]
    def save(self, request: HttpRequest) -> Any:
        email = self.cleaned_data.get("email")
        if self.account_already_exists:
            raise ValueError(email)
        adapter = get_adapter(request)
        user = adapter.new_user(request)
        user = adapter.save_user(request, user, self, commit=False)
        with transaction.atomic():
            user.save()
            self.custom_signup(request, user)
            setup_user_email(request, user, [EmailAddress(email=email)] if email else [])
        return user
