"""The periodic re-check of many connections at once: the same outcome as one
re-check per connection, in a bounded number of queries."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User
from rooms import services
from rooms.models import Membership, Room
from signaling import access
from signaling.protocol import CloseCode
from tests.sessions import session_for

pytestmark = pytest.mark.django_db(transaction=True)


def person(name: str) -> tuple[User, str]:
    user = User.objects.create_user(name, password="pw")
    return user, session_for(user)


def member_of(room: Room, name: str, role: str = Membership.Role.MEMBER) -> tuple[User, str]:
    user, session = person(name)
    Membership.objects.create(room=room, user=user, role=role)
    return user, session


def test_recheck_many_agrees_with_recheck_for_every_outcome(django_assert_max_num_queries):
    owner, owner_session = person("owner")
    room = services.room_create(owner=owner, name="Room")
    locked = services.room_create(owner=owner, name="Locked")
    ended = services.room_create(owner=owner, name="Ended")
    gone = services.room_create(owner=owner, name="Gone")
    fine, fine_session = member_of(room, "fine")
    cohost, cohost_session = member_of(room, "cohost", Membership.Role.HOST)
    logged_out, logged_out_session = member_of(room, "loggedout")
    Session.objects.filter(session_key=logged_out_session).delete()
    moved, moved_session = member_of(room, "moved")
    moved.set_password("another")
    moved.save()
    inactive, inactive_session = member_of(room, "inactive")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    removed, removed_session = person("removed")
    in_locked, in_locked_session = member_of(locked, "inlocked")
    Room.objects.filter(pk=locked.pk).update(is_locked=True)
    in_ended, in_ended_session = member_of(ended, "inended")
    Room.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    in_gone, in_gone_session = member_of(gone, "ingone")
    gone_slug = gone.slug
    gone.delete()
    checks = [
        access.Recheck(owner_session, owner.pk, room.slug),
        access.Recheck(fine_session, fine.pk, room.slug),
        access.Recheck(cohost_session, cohost.pk, room.slug),
        access.Recheck(logged_out_session, logged_out.pk, room.slug),
        access.Recheck(moved_session, moved.pk, room.slug),
        access.Recheck(inactive_session, inactive.pk, room.slug),
        access.Recheck(removed_session, removed.pk, room.slug),
        access.Recheck(fine_session, cohost.pk, room.slug),  # someone else's session
        access.Recheck("short", fine.pk, room.slug),
        access.Recheck(in_locked_session, in_locked.pk, locked.slug),
        access.Recheck(owner_session, owner.pk, locked.slug),
        access.Recheck(in_ended_session, in_ended.pk, ended.slug),
        access.Recheck(in_gone_session, in_gone.pk, gone_slug),
    ]
    expected = [
        (None, True),
        (None, False),
        (None, True),
        (CloseCode.NOT_SIGNED_IN, False),
        (CloseCode.NOT_SIGNED_IN, False),
        (CloseCode.NOT_SIGNED_IN, False),
        (CloseCode.NOT_MEMBER, False),
        (CloseCode.NOT_SIGNED_IN, False),
        (CloseCode.NOT_SIGNED_IN, False),
        (None, False),  # locking keeps the people already in the call
        (None, True),
        (CloseCode.ENDED, False),
        (CloseCode.ENDED, False),  # a deleted room ended for those in it
    ]
    one_by_one = [access.recheck(**check._asdict()) for check in checks]
    assert one_by_one == expected
    with django_assert_max_num_queries(4):
        assert access.recheck_many(checks=checks) == expected


def test_recheck_many_of_nothing_asks_the_database_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert access.recheck_many(checks=[]) == []


def test_another_session_engine_is_rechecked_one_by_one(settings):
    owner, _ = person("owner")
    room = services.room_create(owner=owner, name="Room")
    user, session = member_of(room, "member")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    # This session lives in the database only: the cache engine cannot see it.
    assert access.recheck_many(checks=[access.Recheck(session, user.pk, room.slug)]) == [
        (CloseCode.NOT_SIGNED_IN, False)
    ]
