"""What the rooms app keeps in the session between two requests.

Both values hold an invite token, so they live only in the server-side
session, never in a cookie (the messages framework's cookie storage) or a URL
other than the invite link itself.
"""

from dataclasses import dataclass

from django.http import HttpRequest

PENDING_INVITE_KEY = "pending_invite"
NEW_INVITE_LINK_KEY = "new_invite_link"


@dataclass(frozen=True)
class PendingInvite:
    token: str
    room_name: str


def pending_invite_set(request: HttpRequest, *, token: str, room_name: str) -> None:
    """Remember an opened invite link until the visitor has signed in and accepted."""
    request.session[PENDING_INVITE_KEY] = {"token": token, "room_name": room_name}


def pending_invite_get(request: HttpRequest) -> PendingInvite | None:
    data = request.session.get(PENDING_INVITE_KEY)
    if not isinstance(data, dict) or not data.get("token"):
        return None
    return PendingInvite(token=str(data["token"]), room_name=str(data.get("room_name", "")))


def pending_invite_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_INVITE_KEY, None)


def new_invite_link_set(request: HttpRequest, *, room_slug: str, url: str) -> None:
    """Keep a just-created invite link for exactly the next render of its room page."""
    request.session[NEW_INVITE_LINK_KEY] = {"room": room_slug, "url": url}


def new_invite_link_pop(request: HttpRequest, *, room_slug: str) -> str | None:
    """The link created for this room, removed from the session as it is read."""
    data = request.session.get(NEW_INVITE_LINK_KEY)
    if not isinstance(data, dict) or data.get("room") != room_slug:
        return None
    del request.session[NEW_INVITE_LINK_KEY]
    return str(data["url"])
