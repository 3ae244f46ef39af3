"""The database reads and writes the call consumer needs, as plain synchronous
functions. The consumer runs each through ``database_sync_to_async``; none of
them is on the relay path.

Each function closes its database connection itself before returning. Channels'
``database_sync_to_async`` closes old connections in the worker thread's own
context, but asgiref runs the function in a copy of the *calling task's*
context and Django keeps connections per context, so that cleanup never sees
the connection the function opened: every long-lived socket would pin a
database connection. Closing from inside the call's context does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import import_module
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.db import close_old_connections
from django.utils.crypto import constant_time_compare

from accounts.models import User
from rooms import selectors, services
from rooms.models import Membership, Room
from rooms.selectors import JoinGrant, JoinRefused

from .protocol import CloseCode

# Why a room refuses someone, as the close code the browser sees.
REFUSAL_CODES = {
    JoinRefused.NOT_FOUND: CloseCode.NO_ROOM,
    JoinRefused.NOT_MEMBER: CloseCode.NOT_MEMBER,
    JoinRefused.ENDED: CloseCode.ENDED,
    JoinRefused.LOCKED: CloseCode.LOCKED,
}

P = ParamSpec("P")
R = TypeVar("R")


def closes_connections(function: Callable[P, R]) -> Callable[P, R]:
    """Release the connections ``function`` used, in the context it used them."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


@closes_connections
def release_connections() -> None:
    """Close what earlier calls in this context left open (the auth middleware's
    session lookup, for one); run once when a socket ends."""


@closes_connections
def join_check(*, slug: str, user: User) -> JoinGrant:
    """``rooms.selectors.call_join_check``; raises ``JoinRefused``."""
    return selectors.call_join_check(slug=slug, user=user)


def session_user(session_key: str) -> User | None:
    """The active user a stored session still authenticates, or ``None``.

    The same rules as ``django.contrib.auth.get_user`` (the session exists,
    names a backend we use, the user is active, the password has not changed
    since), but without its side effects: a socket must not rotate or flush
    the browser's session.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = store[SESSION_KEY]
        backend_path = store[BACKEND_SESSION_KEY]
        session_hash = store.get(HASH_SESSION_KEY) or ""
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(User._meta.pk.to_python(user_id))
    if not isinstance(user, User):
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, known) for known in hashes):
        return None
    return user


@closes_connections
def recheck(*, session_key: str, user_id: int, slug: str) -> tuple[CloseCode | None, bool]:
    """Is this connection still allowed in the call? Returns (close code or
    ``None``, is host). Locking does not remove people already in a room, so a
    locked room is no reason to close."""
    user = session_user(session_key)
    if user is None or user.pk != user_id:
        return CloseCode.NOT_SIGNED_IN, False
    try:
        grant = selectors.call_join_check(slug=slug, user=user)
    except JoinRefused as refused:
        if refused.reason == JoinRefused.LOCKED:
            return None, False
        if refused.reason == JoinRefused.NOT_FOUND:
            # The room was deleted: for the people in it, the meeting ended.
            return CloseCode.ENDED, False
        return REFUSAL_CODES[refused.reason], False
    return None, grant.is_host


@closes_connections
def is_host(*, room_id: int, user_id: int) -> bool:
    return Membership.objects.filter(
        room_id=room_id, user_id=user_id, role=Membership.Role.HOST
    ).exists()


@closes_connections
def end_room(*, room_id: int, user_id: int) -> None:
    """End the meeting through the service (which tells every process after
    commit). Raises ``PermissionDenied`` for non-hosts."""
    room = Room.objects.get(pk=room_id)
    user = User.objects.get(pk=user_id)
    services.room_end(room=room, by=user)


@closes_connections
def record_kick(*, room_id: int, user_id: int, target_user_id: int) -> None:
    """Write the audit record of a kick made in the call."""
    user = User.objects.get(pk=user_id)
    services.call_kick_record(room_id=room_id, by=user, target_user_id=target_user_id)
