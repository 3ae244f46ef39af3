"""The in-call "copy invite link": one link per host and room while it lasts."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from rooms import services
from rooms.models import AuditEvent, Invite, Membership

from .conftest import add_member, make_user

pytestmark = pytest.mark.django_db


def press_copy(client, room):
    return client.post(reverse("rooms:call_invite", kwargs={"slug": room.slug}))


@pytest.fixture
def host_client(client, owner):
    client.force_login(owner)
    return client


def test_pressing_copy_again_gives_the_same_link(host_client, room):
    first = press_copy(host_client, room)
    again = press_copy(host_client, room)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["url"] == first.json()["url"]
    assert (first.json()["reused"], again.json()["reused"]) == (False, True)
    assert room.invites.count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITE_CREATED).count() == 1


def test_the_reused_link_still_admits_people(host_client, room):
    press_copy(host_client, room)
    url = press_copy(host_client, room).json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[-1]
    membership = services.invite_accept(token=token, user=make_user("ara"))
    assert membership.room == room


def test_a_revoked_or_nearly_expired_call_link_is_replaced(host_client, room, owner):
    first = press_copy(host_client, room).json()["url"]
    services.invite_revoke(invite=room.invites.get(), by=owner)
    second = press_copy(host_client, room).json()["url"]
    assert second != first
    Invite.objects.filter(revoked_at__isnull=True).update(
        expires_at=timezone.now() + timedelta(minutes=30)
    )
    third = press_copy(host_client, room)
    assert third.status_code == 201
    assert third.json()["url"] not in (first, second)


def test_each_host_gets_their_own_call_link(host_client, client, room, member):
    Membership.objects.filter(room=room, user=member).update(role=Membership.Role.HOST)
    mine = press_copy(host_client, room).json()["url"]
    client.force_login(member)
    theirs = press_copy(client, room).json()["url"]
    assert mine != theirs


def test_links_made_on_the_room_page_are_not_reused(host_client, room, owner):
    services.invite_create(room=room, created_by=owner, expires_in=timedelta(days=1))
    assert press_copy(host_client, room).status_code == 201
    assert room.invites.count() == 2


def test_a_new_secret_key_means_a_new_link(room, owner):
    def copy():
        return services.invite_get_or_create_for_call(
            room=room,
            created_by=owner,
            lifetime=timedelta(hours=24),
            reuse_for_at_least=timedelta(hours=1),
        )

    first, first_token, _created = copy()
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
        # The old link cannot be recomputed, so it is not shown; it still works.
        second, second_token, created = copy()
    assert created
    assert second != first
    assert second_token != first_token
    assert services.invite_get_by_token(token=first_token) == first


def test_the_room_page_lists_call_links_like_any_other(host_client, room):
    press_copy(host_client, room)
    press_copy(host_client, room)
    body = host_client.get(room.get_absolute_url()).content.decode()
    assert body.count('class="invite"') == 1


def test_members_who_are_not_hosts_get_no_link(client, room, member):
    client.force_login(member)
    assert press_copy(client, room).status_code == 403
    assert not room.invites.exists()


def test_the_stored_call_invite_holds_no_token(host_client, room):
    url = press_copy(host_client, room).json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[-1]
    invite = room.invites.get()
    assert invite.kind == Invite.Kind.CALL
    stored = [str(getattr(invite, f.attname)) for f in Invite._meta.concrete_fields]
    assert not any(token in value for value in stored)


def test_a_member_cannot_see_a_hosts_call_link(host_client, client, room):
    press_copy(host_client, room)
    add_member(room, ara := make_user("ara"))
    client.force_login(ara)
    response = press_copy(client, room)
    assert response.status_code == 403
    assert "url" not in response.json()


def test_a_guest_call_link_is_its_own_link_and_lets_guests_in(host_client, room):
    plain = press_copy(host_client, room).json()["url"]
    url = reverse("rooms:call_invite", kwargs={"slug": room.slug})
    first = host_client.post(url, {"guests": "1"})
    again = host_client.post(url, {"guests": "1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["url"] == again.json()["url"] != plain
    assert sorted(room.invites.values_list("allow_guests", flat=True)) == [False, True]
