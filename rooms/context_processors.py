from django.http import HttpRequest

from .session import pending_invite_get


def pending_invite(request: HttpRequest) -> dict[str, str]:
    """The room a signed-out visitor was invited to, for the note on the sign-in
    and sign-up pages. Never the token itself."""
    user = getattr(request, "user", None)
    if user is None or user.is_authenticated or not hasattr(request, "session"):
        return {}
    pending = pending_invite_get(request)
    return {"pending_invite_room": pending.room_name} if pending else {}
