import base64
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rooms import services
from rooms.models import Invite, Membership, Room, hash_token
from rooms.services import InviteInvalid

from .conftest import add_member, make_invite, make_room, make_user

pytestmark = pytest.mark.django_db


# --- Rooms -------------------------------------------------------------------------


def test_owner_becomes_the_first_host_of_a_new_room(owner):
    room = make_room(owner, "Standup", max_participants=3)
    membership = room.memberships.get()
    assert membership.user == owner
    assert membership.is_host
    assert room.max_participants == 3


def test_room_create_refuses_an_empty_name(owner):
    with pytest.raises(ValidationError):
        make_room(owner, "")
    assert not Room.objects.exists()


def test_room_create_retries_when_the_meeting_code_is_taken(owner, monkeypatch):
    taken = make_room(owner).slug
    codes = iter([taken, "new-code-xyz"])
    monkeypatch.setattr(services, "generate_slug", lambda: next(codes))
    room = make_room(owner, "Second")
    assert room.slug == "new-code-xyz"
    assert room.memberships.get().user == owner


def test_host_can_rename_and_resize_the_room(room, owner):
    services.room_update(room=room, by=owner, name="Renamed", max_participants=2)
    room.refresh_from_db()
    assert (room.name, room.max_participants) == ("Renamed", 2)


def test_member_cannot_change_room_settings(room, member):
    with pytest.raises(PermissionDenied):
        services.room_update(room=room, by=member, name="Mine now", max_participants=4)
    room.refresh_from_db()
    assert room.name == "Design review"


def test_host_can_lock_and_unlock(room, owner):
    services.room_set_locked(room=room, by=owner, locked=True)
    assert Room.objects.get(pk=room.pk).is_locked
    services.room_set_locked(room=room, by=owner, locked=False)
    assert not Room.objects.get(pk=room.pk).is_locked


def test_member_cannot_lock(room, member):
    with pytest.raises(PermissionDenied):
        services.room_set_locked(room=room, by=member, locked=True)
    assert not Room.objects.get(pk=room.pk).is_locked


def test_admin_can_lock_with_by_none(room):
    services.room_set_locked(room=room, by=None, locked=True)
    assert Room.objects.get(pk=room.pk).is_locked


def test_ending_a_meeting_disconnects_the_call_after_commit(
    room, owner, live_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.room_end(room=room, by=owner)
    assert Room.objects.get(pk=room.pk).ended_at is not None
    assert live_events == [("room_ended", {"room_id": room.pk})]


def test_member_cannot_end_the_meeting(room, member, live_events):
    with pytest.raises(PermissionDenied):
        services.room_end(room=room, by=member)
    assert Room.objects.get(pk=room.pk).ended_at is None


def test_host_can_reopen_an_ended_meeting(room, owner):
    services.room_end(room=room, by=owner)
    services.room_reopen(room=room, by=owner)
    assert Room.objects.get(pk=room.pk).ended_at is None


def test_member_cannot_reopen(room, owner, member):
    services.room_end(room=room, by=owner)
    with pytest.raises(PermissionDenied):
        services.room_reopen(room=room, by=member)


def test_only_the_owner_deletes_a_room(room, member, owner, live_events):
    add_member(room, cohost := make_user("ara"), role=Membership.Role.HOST)
    for user in (member, cohost):
        with pytest.raises(PermissionDenied):
            services.room_delete(room=room, by=user)
    assert Room.objects.filter(pk=room.pk).exists()


def test_deleting_a_room_removes_memberships_and_invites_and_ends_the_call(
    room, owner, live_events, django_capture_on_commit_callbacks
):
    make_invite(room)
    room_id = room.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.room_delete(room=room, by=owner)
    assert not Membership.objects.filter(room_id=room_id).exists()
    assert not Invite.objects.filter(room_id=room_id).exists()
    assert live_events == [("room_ended", {"room_id": room_id})]


# --- Invites: creation ---------------------------------------------------------------


def test_invite_token_has_at_least_128_random_bits_and_only_its_hash_is_stored(room):
    invite, token = make_invite(room)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128
    invite.refresh_from_db()
    assert invite.token_hash == hash_token(token)
    stored = [str(getattr(invite, f.attname)) for f in Invite._meta.concrete_fields]
    assert not any(token in value for value in stored)


def test_each_invite_gets_a_different_token(room):
    tokens = {make_invite(room)[1] for _ in range(20)}
    assert len(tokens) == 20


def test_invite_expiry_and_max_uses_are_recorded(room, owner):
    before = timezone.now()
    invite, _token = make_invite(room, expires_in=timedelta(hours=1), max_uses=3)
    assert invite.expires_at is not None
    assert before + timedelta(hours=1) <= invite.expires_at <= timezone.now() + timedelta(hours=1)
    assert invite.max_uses == 3
    assert invite.use_count == 0
    assert invite.created_by == owner


@pytest.mark.parametrize("who", ["member", "stranger"])
def test_only_hosts_create_invites(room, request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        make_invite(room, user)
    assert not Invite.objects.exists()


def test_a_promoted_host_can_create_invites(room, member, owner):
    services.membership_set_role(
        membership=room.memberships.get(user=member), by=owner, role=Membership.Role.HOST
    )
    invite, _token = make_invite(room, member)
    assert invite.created_by == member


def test_invite_expiry_must_be_in_the_future(room):
    with pytest.raises(ValueError, match="positive"):
        make_invite(room, expires_in=timedelta(0))


def test_invite_max_uses_must_be_positive(room):
    with pytest.raises(ValidationError):
        make_invite(room, max_uses=0)


# --- Invites: lookup and acceptance -----------------------------------------------------


def expire(invite: Invite) -> None:
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_a_valid_token_finds_its_invite(room):
    invite, token = make_invite(room)
    assert services.invite_get_by_token(token=token) == invite


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (expire, Invite.Status.EXPIRED),
        (lambda invite: services.invite_revoke(invite=invite, by=None), Invite.Status.REVOKED),
        (lambda invite: Invite.objects.filter(pk=invite.pk).update(use_count=1), "used_up"),
    ],
    ids=["expired", "revoked", "used_up"],
)
def test_unusable_invites_say_why(room, stranger, spoil, reason):
    invite, token = make_invite(room, max_uses=1)
    spoil(invite)
    with pytest.raises(InviteInvalid) as excinfo:
        services.invite_get_by_token(token=token)
    assert excinfo.value.reason == reason
    assert excinfo.value.invite == invite
    with pytest.raises(InviteInvalid) as excinfo:
        services.invite_accept(token=token, user=stranger)
    assert excinfo.value.reason == reason
    assert not room.memberships.filter(user=stranger).exists()


def test_wrong_token_is_unknown(room, stranger):
    _invite, token = make_invite(room)
    for wrong in ("", "nope", token[:-1], token + "x", token.upper()):
        with pytest.raises(InviteInvalid) as excinfo:
            services.invite_accept(token=wrong, user=stranger)
        assert excinfo.value.reason == InviteInvalid.UNKNOWN
        assert excinfo.value.invite is None
    assert not room.memberships.filter(user=stranger).exists()


def test_accepting_makes_a_member_and_uses_the_invite_once(room, stranger):
    invite, token = make_invite(room, max_uses=5)
    membership = services.invite_accept(token=token, user=stranger)
    assert membership.room == room
    assert membership.role == Membership.Role.MEMBER
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_accepting_twice_keeps_one_membership_and_one_use(room, stranger):
    invite, token = make_invite(room, max_uses=5)
    first = services.invite_accept(token=token, user=stranger)
    second = services.invite_accept(token=token, user=stranger)
    assert first.pk == second.pk
    assert room.memberships.filter(user=stranger).count() == 1
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_existing_member_reopening_a_used_up_link_keeps_their_membership(room, stranger):
    invite, token = make_invite(room, max_uses=1)
    membership = services.invite_accept(token=token, user=stranger)
    assert services.invite_accept(token=token, user=stranger) == membership
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_existing_members_do_not_consume_uses(room, member, owner):
    invite, token = make_invite(room, max_uses=1)
    services.invite_accept(token=token, user=member)
    services.invite_accept(token=token, user=owner)
    invite.refresh_from_db()
    assert invite.use_count == 0
    assert room.memberships.get(user=owner).is_host


def test_max_uses_is_reached_exactly(room):
    invite, token = make_invite(room, max_uses=2)
    first, second, third = (make_user(name) for name in ("ara", "bora", "chae"))
    services.invite_accept(token=token, user=first)
    services.invite_accept(token=token, user=second)
    with pytest.raises(InviteInvalid) as excinfo:
        services.invite_accept(token=token, user=third)
    assert excinfo.value.reason == Invite.Status.USED_UP
    invite.refresh_from_db()
    assert invite.use_count == 2
    assert not room.memberships.filter(user=third).exists()


def test_last_use_taken_between_check_and_update_rolls_the_membership_back(
    room, stranger, monkeypatch
):
    """Another accept can take the last use after this one checked the status:
    the conditional update then changes nothing and no membership remains."""
    invite, token = make_invite(room, max_uses=1)
    Invite.objects.filter(pk=invite.pk).update(use_count=1)
    real_status = Invite.status
    stale = iter([Invite.Status.ACTIVE])
    monkeypatch.setattr(
        Invite, "status", lambda self, now=None: next(stale, None) or real_status(self, now)
    )
    with pytest.raises(InviteInvalid) as excinfo:
        services.invite_accept(token=token, user=stranger)
    assert excinfo.value.reason == Invite.Status.USED_UP
    assert not room.memberships.filter(user=stranger).exists()
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_expiry_between_check_and_update_rolls_the_membership_back(room, stranger, monkeypatch):
    invite, token = make_invite(room, expires_in=timedelta(hours=1))
    expire(invite)
    real_status = Invite.status
    stale = iter([Invite.Status.ACTIVE])
    monkeypatch.setattr(
        Invite, "status", lambda self, now=None: next(stale, None) or real_status(self, now)
    )
    with pytest.raises(InviteInvalid) as excinfo:
        services.invite_accept(token=token, user=stranger)
    assert excinfo.value.reason == Invite.Status.EXPIRED
    assert not room.memberships.filter(user=stranger).exists()


# --- Invites: revocation ------------------------------------------------------------------


def test_host_revokes_an_invite_and_existing_memberships_stay(room, owner, stranger):
    invite, token = make_invite(room)
    services.invite_accept(token=token, user=stranger)
    services.invite_revoke(invite=invite, by=owner)
    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert room.memberships.filter(user=stranger).exists()


def test_revoking_twice_keeps_the_first_time(room, owner):
    invite, _token = make_invite(room)
    services.invite_revoke(invite=invite, by=owner)
    first = Invite.objects.get(pk=invite.pk).revoked_at
    services.invite_revoke(invite=Invite.objects.get(pk=invite.pk), by=owner)
    assert Invite.objects.get(pk=invite.pk).revoked_at == first


def test_member_cannot_revoke(room, member):
    invite, _token = make_invite(room)
    with pytest.raises(PermissionDenied):
        services.invite_revoke(invite=invite, by=member)
    assert Invite.objects.get(pk=invite.pk).revoked_at is None


# --- Memberships -----------------------------------------------------------------------------


def test_host_removes_a_member_and_their_call_is_closed(
    room, owner, member, live_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_remove(membership=room.memberships.get(user=member), by=owner)
    assert not room.memberships.filter(user=member).exists()
    assert live_events == [("member_removed", {"room_id": room.pk, "user_id": member.pk})]


def test_member_may_leave(room, member):
    services.membership_remove(membership=room.memberships.get(user=member), by=member)
    assert not room.memberships.filter(user=member).exists()


def test_member_cannot_remove_someone_else(room, member):
    other = add_member(room, make_user("ara"))
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=other, by=member)
    assert Membership.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("by", ["owner", None])
def test_owner_cannot_be_removed(room, owner, request, by):
    actor = request.getfixturevalue(by) if by else None
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=room.memberships.get(user=owner), by=actor)
    assert room.memberships.filter(user=owner).exists()


def test_host_promotes_and_demotes(room, owner, member):
    membership = room.memberships.get(user=member)
    services.membership_set_role(membership=membership, by=owner, role=Membership.Role.HOST)
    assert Membership.objects.get(pk=membership.pk).is_host
    services.membership_set_role(membership=membership, by=owner, role=Membership.Role.MEMBER)
    assert not Membership.objects.get(pk=membership.pk).is_host


def test_member_cannot_promote_themselves(room, member):
    membership = room.memberships.get(user=member)
    with pytest.raises(PermissionDenied):
        services.membership_set_role(membership=membership, by=member, role=Membership.Role.HOST)
    assert not Membership.objects.get(pk=membership.pk).is_host


def test_owner_stays_host(room, owner):
    membership = room.memberships.get(user=owner)
    with pytest.raises(PermissionDenied):
        services.membership_set_role(membership=membership, by=None, role=Membership.Role.MEMBER)
    assert Membership.objects.get(pk=membership.pk).is_host
