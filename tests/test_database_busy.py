"""A busy database: the person gets a "busy, try again" page (503) and
nothing is lost; conflicts the database asks us to retry are retried.

The locks here are real: another connection holds SQLite's write lock, or a
PostgreSQL table lock, while a request tries to write.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from allauth.account.models import EmailAddress
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import User
from meet import db
from meet.views import server_error
from rooms import services
from rooms.models import Invite, Membership, Room
from rooms.session import PENDING_INVITE_KEY

PASSWORD = "a-long-test-password"
SHORT_WAIT_MS = 200


# --- Telling busy from broken --------------------------------------------------------------


def django_error(cause: BaseException, kind: type[DatabaseError] = OperationalError) -> Exception:
    """``cause`` as Django raises it: wrapped, with the driver's error as the cause."""
    try:
        try:
            raise cause
        except Exception as exc:
            raise kind(*exc.args) from exc
    except DatabaseError as wrapped:
        return wrapped


def real_sqlite_lock_error(tmp_path) -> sqlite3.OperationalError:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        waiter.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        holder.close()
        waiter.close()
    raise AssertionError("the write lock was not held")


def test_sqlite_locked_is_busy(tmp_path):
    assert db.is_database_busy(django_error(real_sqlite_lock_error(tmp_path)))


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.OperationalError("connection failed: FATAL:  sorry, too many clients already"),
    ],
    ids=["serialization", "deadlock", "lock-timeout", "no-connection-slot"],
)
def test_postgresql_overload_and_conflicts_are_busy(cause):
    assert db.is_database_busy(django_error(cause))


@pytest.mark.parametrize(
    "error",
    [
        django_error(sqlite3.OperationalError("no such table: rooms_room")),
        django_error(psycopg.errors.UndefinedTable("relation does not exist")),
        django_error(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError),
        RuntimeError("database is locked"),
    ],
    ids=["sqlite-bug", "pg-bug", "integrity", "not-a-database-error"],
)
def test_bugs_are_not_busy(error):
    assert not db.is_database_busy(error)


def test_only_serialization_failures_and_deadlocks_are_retried(tmp_path):
    assert db.is_retryable_conflict(django_error(psycopg.errors.DeadlockDetected("d")))
    assert db.is_retryable_conflict(django_error(psycopg.errors.SerializationFailure("s")))
    assert not db.is_retryable_conflict(django_error(real_sqlite_lock_error(tmp_path)))
    assert not db.is_retryable_conflict(django_error(psycopg.errors.LockNotAvailable("l")))


# --- Holding a real lock ----------------------------------------------------------------------


@contextmanager
def short_waits() -> Iterator[None]:
    """This process's connections give up on a lock after SHORT_WAIT_MS."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = dict(options)
    if connection.vendor == "sqlite":
        options["timeout"] = SHORT_WAIT_MS / 1000
    else:
        options["options"] = f"-c lock_timeout={SHORT_WAIT_MS}"
    connection.close()
    try:
        yield
    finally:
        options.clear()
        options.update(saved)
        connection.close()


@contextmanager
def writes_blocked(*tables: str) -> Iterator[None]:
    """Another connection keeps ``tables`` from being written (on SQLite, the
    whole database) until the block ends; reads go on."""
    params = connection.get_connection_params()
    if connection.vendor == "sqlite":
        holder: Any = sqlite3.connect(params["database"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
        for table in tables:
            holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


@pytest.fixture
def invited(transactional_db: None) -> tuple[Client, User, Invite]:
    """A signed-in person who opened an invite link and sees its confirm page."""
    host = User.objects.create_user("minji", password=PASSWORD, display_name="Minji")
    room = services.room_create(owner=host, name="Design review")
    invite, token = services.invite_create(room=room, created_by=host, max_uses=3)
    guest = User.objects.create_user("jun", password=PASSWORD)
    client = Client()
    client.force_login(guest)
    client.get(reverse("rooms:invite_open", args=[token]))
    return client, guest, invite


CONFIRM = reverse("rooms:invite_confirm")


def test_accepting_while_the_database_is_busy_shows_the_busy_page_and_loses_nothing(invited):
    client, guest, invite = invited
    with short_waits(), writes_blocked("rooms_invite", "rooms_membership"):
        response = client.post(CONFIRM, HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "We’re busy right now" in body
    assert "Nothing was changed" in body
    assert "Traceback" not in body
    assert 'id="busy-retry"' in body
    assert not Membership.objects.filter(user=guest).exists()
    invite.refresh_from_db()
    assert invite.use_count == 0
    assert PENDING_INVITE_KEY in client.session
    # Once the database is free again, the same press works.
    response = client.post(CONFIRM)
    assert response.status_code == 302
    assert Membership.objects.filter(user=guest, room=invite.room).exists()
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_the_busy_page_is_translated(invited):
    client, _guest, _invite = invited
    with short_waits(), writes_blocked("rooms_invite", "rooms_membership"):
        response = client.post(CONFIRM, HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 503
    body = response.content.decode()
    assert 'lang="ko"' in body
    assert "지금은 요청이 많습니다" in body


def test_creating_a_room_while_busy_offers_to_send_the_form_again(invited):
    client, guest, _invite = invited
    with short_waits(), writes_blocked("rooms_room"):
        response = client.post(reverse("rooms:create"), {"name": "Retro", "max_participants": "3"})
    body = response.content.decode()
    assert response.status_code == 503
    assert f'action="{reverse("rooms:create")}"' in body
    assert 'name="name" value="Retro"' in body
    assert 'name="max_participants" value="3"' in body
    assert not guest.owned_rooms.exists()


def test_signing_up_while_busy_keeps_no_half_account_and_never_echoes_the_password(
    transactional_db: None,
):
    client = Client()
    form = {
        "email": "ara@example.com",
        "username": "ara",
        "display_name": "Ara",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    with short_waits(), writes_blocked("accounts_user", "account_emailaddress"):
        response = client.post(reverse("account_signup"), form)
    body = response.content.decode()
    assert response.status_code == 503
    assert PASSWORD not in body
    assert 'name="username" value="ara"' in body
    assert not User.objects.filter(username="ara").exists()
    # Sent again (the browser's form, passwords typed again): the account is made whole.
    response = client.post(reverse("account_signup"), form)
    assert response.status_code == 302
    user = User.objects.get(username="ara")
    assert user.display_name == "Ara"
    assert EmailAddress.objects.filter(user=user, email="ara@example.com").exists()


def test_a_busy_database_outside_the_view_still_gets_the_busy_page(tmp_path):
    request = RequestFactory().post("/rooms/new/", {"name": "Retro"})
    try:
        raise django_error(real_sqlite_lock_error(tmp_path))
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    body = response.content.decode()
    # The view may have finished before the failure: no offer to send it again.
    assert 'name="name"' not in body
    assert "Nothing was changed" not in body


def test_other_server_errors_keep_the_error_page():
    request = RequestFactory().get("/")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 500


# --- Retrying what the database asks us to retry -------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="deadlock detection is PostgreSQL's")
def test_a_transaction_chosen_as_deadlock_victim_is_run_again(transactional_db: None):
    host = User.objects.create_user("minji", password=PASSWORD)
    room = services.room_create(owner=host, name="A")
    other = services.room_create(owner=host, name="B")
    first_locks = threading.Barrier(2)
    attempts: list[str] = []
    failures: list[BaseException] = []

    def crossing(name: str, mine: int, theirs: int) -> Callable[[], None]:
        @db.retry_when_busy()
        def run() -> None:
            first = name not in attempts
            attempts.append(name)
            with transaction.atomic():
                Room.objects.filter(pk=mine).update(name=f"{name} first")
                if first:
                    first_locks.wait(10)  # both hold one row: now cross over
                Room.objects.filter(pk=theirs).update(name=f"{name} second")

        def in_thread() -> None:
            try:
                run()
            except BaseException as exc:
                failures.append(exc)
            finally:
                connection.close()

        return in_thread

    threads = [
        threading.Thread(target=crossing("left", room.pk, other.pk)),
        threading.Thread(target=crossing("right", other.pk, room.pk)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # PostgreSQL aborted one of them (a retry may even deadlock again); each
    # attempt ran again until both were through.
    assert failures == []
    assert len(attempts) > 2
    names = set(Room.objects.filter(pk__in=[room.pk, other.pk]).values_list("name", flat=True))
    assert names in ({"left second", "left first"}, {"right first", "right second"})
