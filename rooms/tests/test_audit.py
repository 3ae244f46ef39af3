"""The audit trail: each service writes exactly one record per change it
makes, none when it refuses or changes nothing, and never a secret."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import translation

from rooms import services
from rooms.audit import Admin
from rooms.models import AuditEvent, Invite, Membership, Room
from signaling.turn import ice_config

from .conftest import add_member, make_invite, make_room, make_user

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


@pytest.fixture
def records():
    """The audit records written since the fixture was set up, oldest first."""
    start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def new() -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(pk__gt=start).order_by("pk"))

    return new


@pytest.fixture
def invite(room):
    return make_invite(room)[0]


def membership_of(room: Room, user) -> Membership:
    return Membership.objects.select_related("room", "user").get(room=room, user=user)


# Each case: what the host does, the one record it writes, and its target.
HOST_ACTIONS: dict[str, tuple[Callable[..., Any], str, str | None]] = {
    "update": (
        lambda room, by, member: services.room_update(
            room=room, by=by, name="Renamed", max_participants=3
        ),
        Action.ROOM_UPDATED,
        None,
    ),
    "lock": (
        lambda room, by, member: services.room_set_locked(room=room, by=by, locked=True),
        Action.ROOM_LOCKED,
        None,
    ),
    "end": (lambda room, by, member: services.room_end(room=room, by=by), Action.ROOM_ENDED, None),
    "invite": (
        lambda room, by, member: services.invite_create(room=room, created_by=by),
        Action.INVITE_CREATED,
        None,
    ),
    "revoke": (
        lambda room, by, member: services.invite_revoke(invite=room.invites.get(), by=by),
        Action.INVITE_REVOKED,
        None,
    ),
    "promote": (
        lambda room, by, member: services.membership_set_role(
            membership=membership_of(room, member), by=by, role=Membership.Role.HOST
        ),
        Action.MEMBER_PROMOTED,
        "jun",
    ),
    "remove": (
        lambda room, by, member: services.membership_remove(
            membership=membership_of(room, member), by=by
        ),
        Action.MEMBER_REMOVED,
        "jun",
    ),
}


@pytest.mark.parametrize("case", HOST_ACTIONS)
def test_each_host_action_writes_exactly_one_record(case, room, owner, member, invite, records):
    do, action, target = HOST_ACTIONS[case]
    do(room, owner, member)
    [record] = records()
    assert record.action == action
    assert (record.actor, record.actor_label) == (owner, "minji")
    assert (record.room, record.room_code, record.room_name) == (room, room.slug, room.name)
    assert record.target_label == (target or "")
    assert (record.target is not None) == (target is not None)


@pytest.mark.parametrize("case", HOST_ACTIONS)
def test_a_refused_action_writes_no_record(case, room, member, invite, records):
    do, _action, _target = HOST_ACTIONS[case]
    other = add_member(room, make_user("ara")).user
    with pytest.raises(PermissionDenied):
        do(room, member, other)
    assert records() == []


def test_reopening_and_unlocking_are_recorded(room, owner, records):
    services.room_end(room=room, by=owner)
    services.room_reopen(room=room, by=owner)
    services.room_set_locked(room=room, by=owner, locked=True)
    services.room_set_locked(room=room, by=owner, locked=False)
    assert [r.action for r in records()] == [
        Action.ROOM_ENDED,
        Action.ROOM_REOPENED,
        Action.ROOM_LOCKED,
        Action.ROOM_UNLOCKED,
    ]


def test_what_changes_nothing_records_nothing(room, owner, invite, records):
    services.room_set_locked(room=room, by=owner, locked=False)  # was unlocked
    services.room_reopen(room=room, by=owner)  # was open
    services.room_update(room=room, by=owner, name=room.name, max_participants=4)
    services.invite_revoke(invite=invite, by=owner)
    services.invite_revoke(invite=invite, by=owner)
    services.room_end(room=room, by=owner)
    services.room_end(room=room, by=owner)
    assert [r.action for r in records()] == [Action.INVITE_REVOKED, Action.ROOM_ENDED]


def test_settings_changes_keep_the_old_and_new_values(room, owner, records):
    services.room_update(room=room, by=owner, name="Renamed", max_participants=3)
    [record] = records()
    assert record.details == {"name": ["Design review", "Renamed"], "max_participants": [4, 3]}


def test_admin_actions_are_recorded_as_admin_and_their_user(room, records):
    staff = make_user("root", is_staff=True)
    services.room_set_locked(room=room, by=Admin(staff), locked=True)
    [record] = records()
    assert (record.actor, record.actor_label) == (staff, "admin:root")
    assert record.by_admin


def test_the_system_acting_is_recorded_as_system(room, records):
    services.room_end(room=room, by=None)
    [record] = records()
    assert (record.actor, record.actor_label) == (None, "system")


def test_a_new_room_records_its_creation(owner, records):
    room = make_room(owner, "Standup")
    [record] = records()
    assert (record.action, record.room, record.actor) == (Action.ROOM_CREATED, room, owner)


def test_accepting_records_the_invite_that_admitted_the_member(room, owner, records):
    invite, token = make_invite(room, max_uses=3)
    newcomer = make_user("ara")
    services.invite_accept(token=token, user=newcomer)
    services.invite_accept(token=token, user=newcomer)  # again: already a member
    joined = [r for r in records() if r.action == Action.MEMBER_JOINED]
    assert len(joined) == 1
    assert (joined[0].actor, joined[0].invite) == (newcomer, invite)
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_a_refused_accept_records_nothing(room, records):
    _invite, token = make_invite(room, max_uses=1)
    services.invite_accept(token=token, user=make_user("ara"))
    before = len(records())
    with pytest.raises(services.InviteInvalid):
        services.invite_accept(token=token, user=make_user("bora"))
    assert len(records()) == before


def test_leaving_is_recorded_as_left_not_removed(room, member, records):
    services.membership_remove(membership=membership_of(room, member), by=member)
    [record] = records()
    assert (record.action, record.actor, record.target) == (Action.MEMBER_LEFT, member, None)


def test_the_owner_cannot_be_removed_and_nothing_is_recorded(room, owner, records):
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=membership_of(room, owner), by=Admin(owner))
    with pytest.raises(PermissionDenied):
        services.membership_set_role(
            membership=membership_of(room, owner), by=owner, role=Membership.Role.MEMBER
        )
    assert records() == []


def test_demoting_a_host_is_recorded(room, owner, member, records):
    services.membership_set_role(
        membership=membership_of(room, member), by=owner, role=Membership.Role.HOST
    )
    services.membership_set_role(
        membership=membership_of(room, member), by=owner, role=Membership.Role.HOST
    )
    services.membership_set_role(
        membership=membership_of(room, member), by=owner, role=Membership.Role.MEMBER
    )
    assert [r.action for r in records()] == [Action.MEMBER_PROMOTED, Action.MEMBER_DEMOTED]


def test_deleting_a_room_keeps_its_trail_named_by_code(room, owner, invite, records):
    slug = room.slug
    services.room_delete(room=room, by=owner)
    trail = records()
    assert [r.action for r in trail] == [Action.ROOM_DELETED]
    survivors = AuditEvent.objects.filter(room_code=slug)
    assert {r.action for r in survivors} >= {Action.ROOM_CREATED, Action.INVITE_CREATED}
    assert all(r.room is None and r.room_name == "Design review" for r in survivors)


def test_a_refused_delete_records_nothing(room, member, records):
    with pytest.raises(PermissionDenied):
        services.room_delete(room=room, by=member)
    assert records() == []


def test_a_kick_in_the_call_is_recorded(room, owner, member, records):
    services.call_kick_record(room_id=room.pk, by=owner, target_user_id=member.pk)
    [record] = records()
    assert (record.action, record.actor, record.target) == (Action.MEMBER_KICKED, owner, member)


@override_settings(TURN_URLS=["turn:turn.example.com:3478"], TURN_SECRET="coturn-shared-secret")
def test_no_record_holds_an_invite_token_or_turn_credentials(room, owner, member):
    _invite, token = make_invite(room, expires_in=timedelta(hours=1), max_uses=2)
    _call, call_token, _created = services.invite_get_or_create_for_call(
        room=room,
        created_by=owner,
        lifetime=timedelta(hours=24),
        reuse_for_at_least=timedelta(hours=1),
    )
    services.invite_accept(token=token, user=make_user("ara"))
    ice = ice_config(member.pk)
    credential = ice["servers"][0]["credential"]
    dumped = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in (token, call_token, credential, "coturn-shared-secret"):
        assert secret not in dumped
    assert Invite.objects.get(pk=_invite.pk).token_hash not in dumped


def test_summaries_name_people_as_others_see_them(room, owner, member, records):
    services.membership_set_role(
        membership=membership_of(room, member), by=owner, role=Membership.Role.HOST
    )
    services.room_set_locked(room=room, by=Admin(make_user("root")), locked=True)
    promoted, locked = records()
    assert promoted.summary() == "Minji made Jun a host"
    assert locked.summary() == "An administrator locked the meeting"
    with translation.override("ko"):
        assert promoted.summary() == "Minji 님이 Jun 님을 호스트로 지정했습니다"
        assert locked.summary() == "관리자 님이 회의를 잠갔습니다"
