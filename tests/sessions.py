"""Signed-in sessions for tests that drive real servers and browsers."""

from django.test import Client

from accounts.models import User


def session_for(user: User) -> str:
    """The session cookie value of a real signed-in session, as the login page
    would create it (saved in the test database, which the servers share)."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value
