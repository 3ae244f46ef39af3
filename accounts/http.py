from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request type of views behind ``login_required``: ``user`` is a ``User``."""

    user: User
