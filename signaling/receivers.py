from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from . import events


@receiver(user_logged_out, dispatch_uid="signaling.close_sockets_on_logout")
def close_sockets_on_logout(
    sender: object, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Logging out in one tab ends that session's calls in every tab at once,
    and a socket of that session being admitted right now checks again before
    it takes a seat; other sessions notice on their next periodic re-check."""
    if user is None or request is None or not request.session.session_key:
        return
    events.session_ended(user_id=user.pk, session_key=request.session.session_key)
