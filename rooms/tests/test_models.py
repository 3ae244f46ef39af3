import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from rooms.models import Invite, Membership, Room, generate_slug, hash_token

from .conftest import add_member, make_invite, make_room, make_user


def test_generated_slugs_look_like_meeting_codes():
    slugs = {generate_slug() for _ in range(50)}
    assert len(slugs) == 50
    assert all(re.fullmatch(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", slug) for slug in slugs)


def test_token_hash_is_sha256_hex_and_differs_from_token():
    digest = hash_token("secret-token")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hash_token("secret-token")
    assert digest != hash_token("secret-tokeN")


@pytest.mark.django_db
@pytest.mark.parametrize("seats", [1, 5])
def test_database_refuses_room_sizes_outside_2_to_4(owner, seats):
    room = make_room(owner)
    with pytest.raises(IntegrityError):
        Room.objects.filter(pk=room.pk).update(max_participants=seats)


@pytest.mark.django_db
def test_room_validation_refuses_five_participants(owner):
    room = Room(owner=owner, name="Too big", max_participants=5)
    with pytest.raises(ValidationError) as excinfo:
        room.full_clean()
    assert "max_participants" in excinfo.value.message_dict


@pytest.mark.django_db
def test_a_user_is_a_member_of_a_room_at_most_once(room, member):
    with pytest.raises(IntegrityError):
        Membership.objects.create(room=room, user=member)


@pytest.mark.django_db
def test_owner_membership_must_stay_host(room, owner):
    membership = room.memberships.get(user=owner)
    membership.role = Membership.Role.MEMBER
    with pytest.raises(ValidationError) as excinfo:
        membership.full_clean()
    assert "role" in excinfo.value.message_dict


@pytest.mark.django_db
def test_other_members_may_be_demoted(room, member):
    membership = add_member(room, make_user("ara"), role=Membership.Role.HOST)
    membership.role = Membership.Role.MEMBER
    membership.full_clean()


@pytest.mark.django_db
def test_database_refuses_zero_max_uses(room):
    invite, _token = make_invite(room)
    with pytest.raises(IntegrityError):
        Invite.objects.filter(pk=invite.pk).update(max_uses=0)


@pytest.mark.django_db
def test_database_refuses_more_uses_than_max_uses(room):
    invite, _token = make_invite(room, max_uses=1)
    with pytest.raises(IntegrityError):
        Invite.objects.filter(pk=invite.pk).update(use_count=2)


@pytest.mark.django_db
def test_invite_status_precedence_revoked_then_expired_then_used_up(room):
    now = timezone.now()
    invite, _token = make_invite(room, max_uses=1)
    assert invite.status(now) == Invite.Status.ACTIVE
    invite.use_count = 1
    assert invite.status(now) == Invite.Status.USED_UP
    invite.expires_at = now
    assert invite.status(now) == Invite.Status.EXPIRED
    invite.revoked_at = now - timedelta(days=1)
    assert invite.status(now) == Invite.Status.REVOKED


@pytest.mark.django_db
def test_room_urls_use_the_meeting_code(room):
    assert room.get_absolute_url() == f"/r/{room.slug}/"
    assert room.get_call_url() == f"/r/{room.slug}/call/"


@pytest.mark.django_db
def test_room_is_ended_follows_ended_at(room):
    assert not room.is_ended
    room.ended_at = timezone.now()
    assert room.is_ended


@pytest.mark.django_db
def test_invite_status_in_the_database_agrees_with_invite_status(room, owner):
    # The rule is written once (INVITE_BLOCKERS); its two forms must agree on
    # every combination, on every database.
    now = timezone.now()
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    for expires_at in (None, past, future):
        for max_uses, use_count in ((None, 0), (None, 3), (2, 1), (2, 2)):
            for revoked_at in (None, past):
                invite, _ = make_invite(room)
                Invite.objects.filter(pk=invite.pk).update(
                    expires_at=expires_at,
                    max_uses=max_uses,
                    use_count=use_count,
                    revoked_at=revoked_at,
                )
    invites = list(Invite.objects.all())
    assert len(invites) == 24
    for status in Invite.Status:
        matched = set(Invite.objects.with_status(status, now=now))
        assert matched == {i for i in invites if i.status(now) == status}, status
