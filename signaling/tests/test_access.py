"""The consumer's database checks (signaling.access): their answers are in
test_consumers.py; here, which database connections they use."""

from __future__ import annotations

import functools

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from signaling import access

from .conftest import World, in_thread


@pytest.fixture
def opened(monkeypatch) -> list[object]:
    """Every database connection opened from now on (any thread)."""
    made: list[object] = []
    original = BaseDatabaseWrapper.connect

    def connect(self: BaseDatabaseWrapper) -> None:
        original(self)
        made.append(self.connection)

    monkeypatch.setattr(BaseDatabaseWrapper, "connect", connect)
    return made


def reader_connections() -> list[object]:
    """The connection each reader thread holds now (None: none)."""
    return [future.result() for future in _on_every_reader(lambda: connection.connection)]


def _on_every_reader(function):
    import threading

    barrier = threading.Barrier(access.READ_THREADS, timeout=5)

    def run():
        try:
            return function()
        finally:
            barrier.wait()

    return [access._readers.submit(run) for _ in range(access.READ_THREADS)]


async def test_reader_threads_keep_one_connection_each_across_checks(world: World, opened):
    for _ in range(3 * access.READ_THREADS):
        assert await access.read(access.is_host, room_id=world.room.pk, user_id=world.host.pk)
        admission = await access.read(access.admit, session_key=world.alex.session, slug=world.slug)
        assert admission.user.pk == world.alex.pk
    assert 1 <= len(opened) <= access.READ_THREADS
    held = [c for c in reader_connections() if c is not None]
    assert set(map(id, held)) == set(map(id, opened))


async def test_a_kept_connection_that_went_stale_is_replaced_and_the_check_answers(
    world: World, opened
):
    await access.read(access.is_host, room_id=world.room.pk, user_id=world.host.pk)
    # Every reader's connection dies under Django's feet (a restarted server).
    for future in _on_every_reader(lambda: connection.connection and connection.connection.close()):
        future.result()
    before = len(opened)
    assert await access.read(access.is_host, room_id=world.room.pk, user_id=world.host.pk)
    assert not await access.read(access.is_host, room_id=world.room.pk, user_id=world.alex.pk)
    assert len(opened) > before


async def test_a_kept_connection_is_retired_after_its_age(world: World, opened, monkeypatch):
    await access.read(access.is_host, room_id=world.room.pk, user_id=world.host.pk)
    first = [c for c in reader_connections() if c is not None]
    assert first
    monkeypatch.setattr(access, "READER_CONNECTION_AGE", 0.0)
    # Connections kept under the old age keep it; age them as if it had passed.
    for future in _on_every_reader(lambda: setattr(connection, "close_at", 0.0)):
        future.result()
    # A check on every reader thread (which thread takes a queued check is
    # the executor's choice: one may take them all).
    check = functools.partial(access.is_host, room_id=world.room.pk, user_id=world.host.pk)
    for future in _on_every_reader(check):
        assert future.result()
    now = {id(c) for c in reader_connections() if c is not None}
    assert not now & set(map(id, first))


async def test_close_reader_connections_closes_every_one(world: World):
    for _ in range(2 * access.READ_THREADS):
        await access.read(access.is_host, room_id=world.room.pk, user_id=world.host.pk)
    assert any(reader_connections())
    access.close_reader_connections()
    assert reader_connections() == [None] * access.READ_THREADS


async def test_a_check_outside_the_reader_threads_closes_its_connection(world: World):
    def check_and_look() -> tuple[bool, object]:
        answer = access.is_host(room_id=world.room.pk, user_id=world.host.pk)
        return answer, connections["default"].connection

    answer, left_open = await in_thread(check_and_look)
    assert answer is True
    assert left_open is None


# --- The admission's query (signaling.membership) ----------------------------------


def _values(instance) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.parametrize("locked_and_ended", [False, True])
def test_the_prepared_membership_query_loads_what_the_orm_loads(
    world: World, locked_and_ended: bool, django_assert_num_queries
):
    from django.utils import timezone

    from rooms.models import Membership, Room
    from signaling.membership import membership_of

    if locked_and_ended:
        Room.objects.filter(pk=world.room.pk).update(is_locked=True, ended_at=timezone.now())
    orm = Membership.objects.select_related("room", "user").get(
        room__slug=world.slug, user_id=world.alex.pk
    )
    with django_assert_num_queries(1):
        prepared = membership_of(world.slug, world.alex.pk)
        assert prepared is not None
        # The room and the user come with it, as select_related loads them.
        room, user = prepared.room, prepared.user
    assert _values(prepared) == _values(orm)
    assert _values(room) == _values(orm.room)
    assert _values(user) == _values(orm.user)
    assert type(room.is_locked) is bool
    assert room.is_locked is locked_and_ended
    assert prepared._state.adding is False
    assert prepared._state.db == "default"
    assert membership_of(world.slug, world.eve.pk) is None
    assert membership_of("no-such-room", world.alex.pk) is None


# --- The session read (signaling.sessionread) --------------------------------------------


def test_the_prepared_session_read_loads_what_djangos_store_loads(
    world: World, django_assert_num_queries
):
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.cache import cache

    from signaling import sessionread

    stock = SessionStore(world.alex.session).load()
    assert stock  # a signed-in session
    assert sessionread.DbStore(world.alex.session).load() == stock
    cache.clear()
    with django_assert_num_queries(1):
        assert sessionread.CachedDbStore(world.alex.session).load() == stock
    # Cached as Django's cached_db store caches it: the next read is free.
    with django_assert_num_queries(0):
        assert sessionread.CachedDbStore(world.alex.session).load() == stock


@pytest.mark.parametrize("key", ["expired", "unknown"])
def test_an_expired_or_unknown_session_reads_as_empty(world: World, key: str):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from signaling import sessionread

    session_key = world.alex.session if key == "expired" else "x" * 32
    Session.objects.filter(pk=world.alex.session).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    store = sessionread.DbStore(session_key)
    assert store.load() == {}
    assert store.session_key is None
