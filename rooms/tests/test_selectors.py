from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from rooms import selectors, services
from rooms.models import Invite
from rooms.selectors import JoinRefused

from .conftest import add_member, make_invite, make_room, make_user

pytestmark = pytest.mark.django_db


def test_rooms_for_user_lists_owned_and_joined_rooms_only(owner, member, stranger):
    owned = make_room(owner, "Owned")
    joined = make_room(stranger, "Joined")
    add_member(joined, owner)
    make_room(member, "Someone else's")
    assert set(selectors.rooms_for_user(user=owner)) == {owned, joined}


def test_rooms_for_user_counts_every_member_and_gives_my_role(owner, member, stranger):
    room = make_room(owner)
    add_member(room, member)
    add_member(room, stranger)
    fields = ("member_count", "my_role")
    assert list(selectors.rooms_for_user(user=owner).values_list(*fields)) == [(3, "host")]
    assert list(selectors.rooms_for_user(user=member).values_list(*fields)) == [(3, "member")]


def test_rooms_for_user_lists_open_rooms_newest_first_then_ended_rooms(owner):
    old = make_room(owner, "Old")
    ended = make_room(owner, "Ended")
    new = make_room(owner, "New")
    now = timezone.now()
    type(old).objects.filter(pk=old.pk).update(created_at=now - timedelta(days=2))
    type(ended).objects.filter(pk=ended.pk).update(created_at=now - timedelta(days=1))
    type(new).objects.filter(pk=new.pk).update(created_at=now)
    services.room_end(room=ended, by=owner)
    assert [room.name for room in selectors.rooms_for_user(user=owner)] == ["New", "Old", "Ended"]


def test_membership_get_is_none_for_anonymous_and_strangers(room, stranger, member):
    assert selectors.membership_get(room=room, user=AnonymousUser()) is None
    assert selectors.membership_get(room=room, user=stranger) is None
    membership = selectors.membership_get(room=room, user=member)
    assert membership is not None
    assert membership.user == member


def test_room_members_lists_hosts_first(room, owner, member):
    assert [m.user for m in selectors.room_members(room=room)] == [owner, member]


def test_invites_active_leaves_out_expired_revoked_and_used_up(room, owner):
    active, _ = make_invite(room)
    expired, _ = make_invite(room, expires_in=timedelta(hours=1))
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    revoked, _ = make_invite(room)
    services.invite_revoke(invite=revoked, by=owner)
    _used_up, token = make_invite(room, max_uses=1)
    services.invite_accept(token=token, user=make_user("ara"))
    limited, _ = make_invite(room, max_uses=5)
    assert set(selectors.invites_active(room=room)) == {active, limited}


def test_call_join_check_admits_members_of_open_rooms(room, member):
    grant = selectors.call_join_check(slug=room.slug, user=member)
    assert grant.room_id == room.pk
    assert not grant.is_host
    assert grant.display_name == "Jun"


def test_call_join_check_admits_a_member_with_one_query(room, member, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.call_join_check(slug=room.slug, user=member)


@pytest.mark.parametrize(
    ("setup", "who", "reason"),
    [
        (lambda room: None, "stranger", JoinRefused.NOT_MEMBER),
        (lambda room: services.room_end(room=room, by=None), "owner", JoinRefused.ENDED),
        (
            lambda room: services.room_set_locked(room=room, by=None, locked=True),
            "member",
            JoinRefused.LOCKED,
        ),
    ],
    ids=["stranger", "ended", "locked"],
)
def test_call_join_check_refuses_with_a_reason(room, request, setup, who, reason):
    setup(room)
    with pytest.raises(JoinRefused) as excinfo:
        selectors.call_join_check(slug=room.slug, user=request.getfixturevalue(who))
    assert excinfo.value.reason == reason


def test_hosts_may_join_a_locked_room(room, owner):
    services.room_set_locked(room=room, by=None, locked=True)
    assert selectors.call_join_check(slug=room.slug, user=owner).is_host
