"""The database reads and writes the call consumer needs, as plain synchronous
functions, and the threads they run on. None of them is on the relay path.

Read-only checks (admission, the periodic re-check, a host check) run on a
small thread pool of their own (``read``), so a join storm is not queued
behind asgiref's single database thread; writes keep to that thread
(``database_sync_to_async``).

**Reader threads keep their connection.** Opening one (for SQLite: the file,
its pragmas and Django's functions; for PostgreSQL a server process, or a
round trip to the pooler) was about a quarter of what a connect + join cost.
Each reader thread keeps one per database for up to ``READER_CONNECTION_AGE``
seconds: at most ``READ_THREADS`` per process, however many sockets are
open. Django's own rules retire it earlier (an error on it, or
``CONN_HEALTH_CHECKS``), and a check that fails on a kept connection (the
server restarted, a pooler dropped it) runs once more on a fresh one.
``close_reader_connections`` closes them all (tests before the test database
is dropped).

**Everything else closes its connection itself** before returning
(``CONN_MAX_AGE`` is 0, docs/deployment.md): the writes, and a check called
outside a reader thread. Channels' ``database_sync_to_async`` closes old
connections in the worker thread's own context, but asgiref runs the
function in a copy of the *calling task's* context and Django keeps
connections per context, so that cleanup never sees the connection the
function opened: every long-lived socket would pin a database connection.
Closing from inside the call's context does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.db import DatabaseError, close_old_connections, connections
from django.utils.crypto import constant_time_compare

from accounts.models import User
from rooms import selectors, services
from rooms.guests import GUEST_PASS_KEY, guest_usable, pass_claim
from rooms.models import Guest, Membership, Room
from rooms.selectors import JoinGrant, JoinRefused

from . import sessionread
from .membership import membership_of
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

# Read-only checks are short; a few threads keep a join storm moving without
# opening more database connections than a pool in front of it would allow.
READ_THREADS = 4
# How long a reader thread keeps its database connection (seconds).
READER_CONNECTION_AGE = 300.0

_reader = threading.local()


def _mark_reader() -> None:
    _reader.active = True
    _reader.kept = {}


_readers = ThreadPoolExecutor(
    max_workers=READ_THREADS, thread_name_prefix="signaling-read", initializer=_mark_reader
)


async def read(function: Callable[..., R], /, **kwargs: Any) -> R:
    """Run a read-only check from this module on the reader threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_readers, functools.partial(function, **kwargs))


class NotSignedIn(Exception):
    """The socket's session does not authenticate an active user (close 4401)."""


@dataclasses.dataclass(frozen=True)
class GuestParticipant:
    """Who a guest's socket speaks for: ``pk`` is the participant id, the
    guest's primary key negated (users' are positive), used wherever a user's
    id is (presence, socket counts, groups, TURN, resume tokens)."""

    pk: int
    guest_id: int

    @property
    def is_guest(self) -> bool:
        return True


Participant = User | GuestParticipant


class Admission(NamedTuple):
    user: Participant
    grant: JoinGrant


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


def reads(function: Callable[P, R]) -> Callable[P, R]:
    """A read-only check: on a reader thread it uses (and keeps) the thread's
    connection; anywhere else it closes what it opened (``closes_connections``)."""
    closing = closes_connections(function)

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not getattr(_reader, "active", False):
            return closing(*args, **kwargs)
        close_old_connections()  # Django's rules: errors, health checks, close_at
        reused = _has_open_connection()
        try:
            return function(*args, **kwargs)
        except DatabaseError:
            if not reused:
                raise
            # A kept connection can go stale (a restarted server, a pooler's
            # timeout): once more on a fresh one. Read-only, so safe to repeat.
            _close_reader_connections()
            return function(*args, **kwargs)
        finally:
            _keep_reader_connections()

    return wrapper


def _has_open_connection() -> bool:
    return any(conn.connection is not None for conn in connections.all(initialized_only=True))


def _keep_reader_connections() -> None:
    """After a check: give a connection opened by it ``READER_CONNECTION_AGE``
    (Django set its end at ``CONN_MAX_AGE``), and close one left unusable."""
    kept: dict[str, Any] = _reader.kept
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            kept.pop(conn.alias, None)
            continue
        if conn.in_atomic_block or conn.errors_occurred:
            conn.close()
            kept.pop(conn.alias, None)
            continue
        if kept.get(conn.alias) is not conn.connection:
            kept[conn.alias] = conn.connection
            if conn.close_at is not None:
                conn.close_at = max(conn.close_at, time.monotonic() + READER_CONNECTION_AGE)


def _close_reader_connections() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()
    _reader.kept.clear()


def close_reader_connections(timeout: float = 10.0) -> None:
    """Close every reader thread's connections (from outside the pool): one
    task per thread, each held at a barrier until all have run, so that no
    thread runs two of them."""
    barrier = threading.Barrier(READ_THREADS, timeout=timeout)

    def close_mine() -> None:
        _close_reader_connections()
        barrier.wait()

    for future in [_readers.submit(close_mine) for _ in range(READ_THREADS)]:
        future.result(timeout=timeout)


@reads
def admit(*, session_key: str, slug: str | None) -> Admission:
    """Who the session authenticates and what they may do in the room ``slug``.

    One query when the answer is yes and the session is in the cache
    (``SESSION_ENGINE`` is ``cached_db``): the membership with its room and
    user. Raises ``NotSignedIn``, then ``JoinRefused``, in the order of
    docs/protocol.md ("Connecting").
    """
    return _admission(session_key, slug)


def _admission(
    session_key: str, slug: str | None, *, fresh: bool = False, user_id: Any = None
) -> Admission:
    """``admit``; given ``user_id``, a session of another user (or guest) is not
    signed in. A session without a signed-in user may hold a guest pass
    (rooms/guests.py): it admits that guest to its own room only."""
    store = _session_store(session_key, fresh=fresh)
    claim = _session_claim(store)
    if claim is None:
        if user_id is None or user_id < 0:
            return _guest_admission(store, slug, participant_id=user_id)
        raise NotSignedIn
    if user_id is not None and claim[0] != user_id:
        raise NotSignedIn
    user_id, backend_path, session_hash = claim
    if slug is None:  # a code that cannot name a room: no room query
        if _authenticated(_load_user(user_id), backend_path, session_hash) is None:
            raise NotSignedIn
        raise JoinRefused(JoinRefused.NOT_FOUND)
    membership = membership_of(slug, user_id)
    if membership is None:
        if _authenticated(_load_user(user_id), backend_path, session_hash) is None:
            raise NotSignedIn
        if Room.objects.filter(slug=slug).exists():
            raise JoinRefused(JoinRefused.NOT_MEMBER)
        raise JoinRefused(JoinRefused.NOT_FOUND)
    user = _authenticated(membership.user, backend_path, session_hash)
    if user is None:
        raise NotSignedIn
    return Admission(user, selectors.call_join_grant(membership=membership, user=user))


class GuestRemoved(Exception):
    """The guest this socket was admitted as has been removed or has expired (4411)."""


def _guest_admission(store: Any, slug: str | None, *, participant_id: int | None) -> Admission:
    """A guest pass's admission. Without ``participant_id`` (a new socket), a
    pass that is missing, forged, expired or no longer good is not signed in
    (4401); for the re-check of a guest already in (``participant_id``), a
    pass gone bad means their guest access ended (``GuestRemoved``, 4411)."""
    claim = pass_claim(store.get(GUEST_PASS_KEY))
    if claim is None or (participant_id is not None and -claim[0] != participant_id):
        if participant_id is not None:
            raise GuestRemoved
        raise NotSignedIn
    guest_id, room_id = claim
    guest = Guest.objects.select_related("room").filter(pk=guest_id, room_id=room_id).first()
    if not guest_usable(guest, room_id=room_id):
        if participant_id is not None:
            raise GuestRemoved
        raise NotSignedIn
    assert guest is not None  # noqa: S101  (guest_usable said so)
    if slug is None or guest.room.slug != slug:
        raise JoinRefused(JoinRefused.NOT_MEMBER)
    return Admission(GuestParticipant(-guest.pk, guest.pk), selectors.guest_join_grant(guest=guest))


def _session_store(session_key: str, *, fresh: bool = False) -> Any:
    """The session store, without touching it: a socket must not rotate or
    flush the browser's session. ``fresh`` reads a cached database session
    from the database itself, so a session deleted there (not through the
    session store) is noticed too."""
    engine = settings.SESSION_ENGINE
    if fresh and engine == CACHED_DB:
        engine = sessionread.DB
    return sessionread.store_class(engine)(session_key)


CACHED_DB = sessionread.CACHED_DB


def _session_claim(store: Any) -> tuple[Any, str, str] | None:
    """(user id, backend, auth hash) stored in the session."""
    try:
        user_id = User._meta.pk.to_python(store[SESSION_KEY])
        backend_path = store[BACKEND_SESSION_KEY]
    except (KeyError, ValueError):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    return user_id, backend_path, store.get(HASH_SESSION_KEY) or ""


def _load_user(user_id: Any) -> User | None:
    return User._default_manager.filter(pk=user_id).first()


@functools.cache
def _backend(path: str) -> Any:
    return load_backend(path)


def _authenticated(user: User | None, backend_path: str, session_hash: str) -> User | None:
    """``user`` if the session still authenticates them: the same rules as
    ``django.contrib.auth.get_user`` (the backend admits the user, the
    password has not changed since the session was made)."""
    if user is None:
        return None
    can_authenticate = getattr(_backend(backend_path), "user_can_authenticate", None)
    if can_authenticate is not None and not can_authenticate(user):
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, known) for known in hashes):
        return None
    return user


@reads
def join_check(*, slug: str, user: Participant) -> JoinGrant:
    """``rooms.selectors.call_join_check``; raises ``JoinRefused``. A guest no
    longer usable raises ``GuestRemoved``."""
    if isinstance(user, GuestParticipant):
        guest = Guest.objects.select_related("room").filter(pk=user.guest_id).first()
        if not guest_usable(guest):
            raise GuestRemoved
        assert guest is not None  # noqa: S101
        if guest.room.slug != slug:
            raise JoinRefused(JoinRefused.NOT_MEMBER)
        return selectors.guest_join_grant(guest=guest)
    return selectors.call_join_check(slug=slug, user=user)


@reads
def session_join_check(*, session_key: str, slug: str, user: Participant) -> JoinGrant:
    """``join_check`` with the socket's session read again from the database:
    for a socket admitted while one of its user's sessions logged out
    (``signaling.events.session_ended``). Raises ``NotSignedIn`` when it was
    this socket's session, then as ``join_check``."""
    return _admission(session_key, slug, fresh=True, user_id=user.pk).grant


class Recheck(NamedTuple):
    session_key: str
    user_id: int
    slug: str


@reads
def recheck(*, session_key: str, user_id: int, slug: str) -> tuple[CloseCode | None, bool]:
    """Is this connection still allowed in the call? Returns (close code or
    ``None``, is host). Locking does not remove people already in a room, so a
    locked room is no reason to close."""
    return _recheck(Recheck(session_key, user_id, slug))


@reads
def recheck_many(*, checks: Sequence[Recheck]) -> list[tuple[CloseCode | None, bool]]:
    """``recheck`` for many connections at once (the periodic sweep), on one
    database connection."""
    return [_recheck(check) for check in checks]


def _recheck(check: Recheck) -> tuple[CloseCode | None, bool]:
    """The admission again, with the session read from the database: two
    queries when the answer is yes."""
    try:
        _user, grant = _admission(check.session_key, check.slug, fresh=True, user_id=check.user_id)
    except NotSignedIn:
        return CloseCode.NOT_SIGNED_IN, False
    except GuestRemoved:
        return CloseCode.GUEST_REMOVED, False
    except JoinRefused as refused:
        if refused.reason == JoinRefused.LOCKED:
            return None, False
        if refused.reason == JoinRefused.NOT_FOUND:
            # The room was deleted: for the people in it, the meeting ended.
            return CloseCode.ENDED, False
        return REFUSAL_CODES[refused.reason], False
    return None, grant.is_host


@reads
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
