import re

import pytest
from django.urls import reverse

from rooms import services, views
from rooms.models import AuditEvent, Invite, Membership, Room
from signaling import events
from signaling.live import LiveCall

from .conftest import PASSWORD, add_member, make_invite, make_room, make_user

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_landing_explains_meet_and_offers_sign_up(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "two to four people" in body
    assert reverse("account_signup") in body
    assert reverse("account_login") in body


def test_landing_offers_the_dashboard_when_signed_in(client, owner):
    body = login(client, owner).get("/").content.decode()
    assert reverse("rooms:dashboard") in body
    assert reverse("rooms:create") in body


@pytest.mark.parametrize("name", ["rooms:dashboard", "rooms:create"])
def test_pages_for_signed_in_people_send_others_to_log_in_and_back(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


# --- Dashboard and creating rooms -------------------------------------------------


def test_dashboard_lists_my_rooms_with_role_members_and_live_count(
    client, room, owner, member, monkeypatch
):
    ended = make_room(member, "Retro")
    add_member(ended, owner)
    services.room_end(room=ended, by=member)
    make_room(make_user("ara"), "Not mine")
    monkeypatch.setattr(views, "participant_counts", lambda ids: {room.pk: 2})
    body = login(client, owner).get(reverse("rooms:dashboard")).content.decode()
    assert "Design review" in body
    assert "Retro" in body
    assert "Not mine" not in body
    assert "2 members" in body
    assert "2 in the call now" in body
    assert "Ended" in body
    assert body.index("Design review") < body.index("Retro")


def test_dashboard_without_rooms_shows_how_to_start(client, stranger):
    body = login(client, stranger).get(reverse("rooms:dashboard")).content.decode()
    assert "No meetings yet" in body
    assert reverse("rooms:create") in body


def test_creating_a_meeting_makes_me_its_host_and_opens_its_page(client, owner):
    response = login(client, owner).post(
        reverse("rooms:create"), {"name": "Standup", "max_participants": "3"}
    )
    room = Room.objects.get(name="Standup")
    assert response.status_code == 302
    assert response["Location"] == room.get_absolute_url()
    assert room.max_participants == 3
    assert room.memberships.get(user=owner).is_host


def test_new_meeting_form_defaults_to_four_participants(client, owner):
    body = login(client, owner).get(reverse("rooms:create")).content.decode()
    assert re.search(r'<option value="4"[^>]*selected', body)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "max_participants": "4"}, "name"),
        ({"name": "X", "max_participants": "5"}, "max_participants"),
    ],
)
def test_new_meeting_form_shows_field_errors(client, owner, data, field):
    response = login(client, owner).post(reverse("rooms:create"), data)
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Room.objects.exists()


# --- Room page ---------------------------------------------------------------------


def test_room_page_sends_anonymous_visitors_to_log_in_and_back(client, room):
    response = client.get(room.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={room.get_absolute_url()}"


@pytest.mark.parametrize("url_name", ["rooms:detail", "rooms:call"])
def test_non_members_get_403_with_an_explanation(client, room, stranger, url_name):
    response = login(client, stranger).get(reverse(url_name, args=[room.slug]))
    assert response.status_code == 403
    assert "You are not a member of this room. Ask a host for an invite link." in (
        response.content.decode()
    )


def test_room_page_names_the_acting_host_of_the_live_call_as_text(
    client, room, member, monkeypatch
):
    monkeypatch.setattr(views, "live_call", lambda room_id: LiveCall(2, "<b>Jun</b>", []))
    body = login(client, member).get(room.get_absolute_url()).content.decode()
    assert "2 of 4 in the call now" in body
    assert "<strong>&lt;b&gt;Jun&lt;/b&gt;</strong> is the acting host." in body
    monkeypatch.setattr(views, "live_call", lambda room_id: LiveCall(2, None, ["Minji"]))
    body = login(client, member).get(room.get_absolute_url()).content.decode()
    assert "acting host" not in body


@pytest.mark.parametrize("url_name", ["rooms:detail", "rooms:call"])
def test_unknown_rooms_are_404(client, stranger, url_name):
    response = login(client, stranger).get(reverse(url_name, args=["abc-defg-hij"]))
    assert response.status_code == 404


def test_member_sees_room_members_and_the_join_button_but_no_host_tools(
    client, room, member, monkeypatch
):
    monkeypatch.setattr(views, "live_call", lambda room_id: LiveCall(1, None, ["Minji"]))
    response = login(client, member).get(room.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert room.name in body
    assert room.slug in body
    assert "Minji" in body
    assert "Jun" in body
    assert "1 of 4 in the call now" in body
    assert f'href="{room.get_call_url()}"' in body
    assert reverse("rooms:invite_create", args=[room.slug]) not in body
    assert reverse("rooms:lock", args=[room.slug]) not in body
    assert reverse("rooms:leave", args=[room.slug]) in body


def test_host_sees_invites_and_controls(client, room, owner):
    invite, _token = make_invite(room, max_uses=3)
    body = login(client, owner).get(room.get_absolute_url()).content.decode()
    assert reverse("rooms:invite_create", args=[room.slug]) in body
    assert reverse("rooms:invite_revoke", args=[room.slug, invite.pk]) in body
    assert "Used 0 of 3" in body
    assert reverse("rooms:lock", args=[room.slug]) in body
    assert reverse("rooms:end", args=[room.slug]) in body
    assert reverse("rooms:delete", args=[room.slug]) in body
    assert reverse("rooms:update", args=[room.slug]) in body
    # The owner cannot leave, only delete.
    assert reverse("rooms:leave", args=[room.slug]) not in body


def test_hosts_see_the_rooms_recent_activity_newest_first(client, room, owner, member):
    services.room_set_locked(room=room, by=owner, locked=True)
    services.membership_set_role(
        membership=room.memberships.get(user=member), by=owner, role=Membership.Role.HOST
    )
    body = login(client, owner).get(room.get_absolute_url()).content.decode()
    section = body[body.index('id="activity"') :]
    made_host = section.index("Minji made Jun a host")
    locked = section.index("Minji locked the meeting")
    created = section.index("Minji created the meeting")
    assert made_host < locked < created


def test_members_do_not_see_the_activity_list(client, room, owner, member):
    services.room_set_locked(room=room, by=owner, locked=True)
    body = login(client, member).get(room.get_absolute_url()).content.decode()
    assert 'id="activity"' not in body
    assert "locked the meeting" not in body


def test_the_activity_list_shows_the_last_ten(client, room, owner):
    for _ in range(6):
        services.room_set_locked(room=room, by=owner, locked=True)
        services.room_set_locked(room=room, by=owner, locked=False)
    body = login(client, owner).get(room.get_absolute_url()).content.decode()
    assert body.count('class="activity"') == 10
    assert "created the meeting" not in body


def test_join_button_is_disabled_with_a_reason_when_the_meeting_ended(client, room, member):
    services.room_end(room=room, by=None)
    body = login(client, member).get(room.get_absolute_url()).content.decode()
    assert f'href="{room.get_call_url()}"' not in body
    assert "This meeting has ended. A host can reopen it." in body


def test_join_button_is_disabled_for_members_of_a_locked_meeting(client, room, member, owner):
    services.room_set_locked(room=room, by=None, locked=True)
    body = login(client, member).get(room.get_absolute_url()).content.decode()
    assert f'href="{room.get_call_url()}"' not in body
    assert "only hosts can join right now" in body
    body = login(client, owner).get(room.get_absolute_url()).content.decode()
    assert f'href="{room.get_call_url()}"' in body


def test_call_page_renders_for_members_with_its_context(client, room, member):
    response = login(client, member).get(room.get_call_url())
    assert response.status_code == 200
    assert response.context["room"] == room
    assert response.context["membership"].user == member
    assert "call_config" in response.context
    assert response.templates[0].name == "rooms/call.html"


# --- POST-only endpoints ---------------------------------------------------------------

POST_ONLY = [
    ("rooms:lock", False),
    ("rooms:end", False),
    ("rooms:reopen", False),
    ("rooms:leave", False),
    ("rooms:invite_create", False),
    ("rooms:invite_revoke", True),
    ("rooms:member_remove", True),
    ("rooms:member_role", True),
]


@pytest.mark.parametrize(("url_name", "with_pk"), POST_ONLY)
def test_post_only_endpoints_refuse_get(client, room, owner, url_name, with_pk):
    args = [room.slug, 1] if with_pk else [room.slug]
    response = login(client, owner).get(reverse(url_name, args=args))
    assert response.status_code == 405


# --- Host actions --------------------------------------------------------------------------


def test_host_changes_room_settings(client, room, owner):
    url = reverse("rooms:update", args=[room.slug])
    assert login(client, owner).get(url).status_code == 200
    response = client.post(url, {"name": "Renamed", "max_participants": "2"})
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.max_participants) == ("Renamed", 2)


def test_host_turns_the_lobby_on_in_room_settings_and_it_is_audited(
    client, room, owner, monkeypatch, django_capture_on_commit_callbacks
):
    told = []
    monkeypatch.setattr(events, "lobby_changed", lambda **kw: told.append(kw))
    url = reverse("rooms:update", args=[room.slug])
    assert 'name="lobby_enabled"' in login(client, owner).get(url).content.decode()
    data = {"name": room.name, "max_participants": str(room.max_participants)}
    with_lobby = {**data, "lobby_enabled": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, with_lobby).status_code == 302
    room.refresh_from_db()
    assert room.lobby_enabled is True
    assert told == [{"room_id": room.pk, "on": True}]
    event = AuditEvent.objects.filter(room=room, action=AuditEvent.Action.ROOM_UPDATED).get()
    assert event.details == {"lobby_enabled": [False, True]}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, data)  # an unticked box turns it off
    room.refresh_from_db()
    assert room.lobby_enabled is False
    assert told[-1] == {"room_id": room.pk, "on": False}


def test_settings_form_shows_errors(client, room, owner):
    url = reverse("rooms:update", args=[room.slug])
    response = login(client, owner).post(url, {"name": "", "max_participants": "9"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_name_error"' in body
    assert 'id="id_max_participants_error"' in body


@pytest.mark.parametrize("method", ["get", "post"])
def test_members_cannot_open_room_settings(client, room, member, method):
    url = reverse("rooms:update", args=[room.slug])
    response = getattr(login(client, member), method)(url, {"name": "Mine"})
    assert response.status_code == 403
    assert "Only a host of this room can do that." in response.content.decode()


def test_host_locks_and_unlocks(client, room, owner):
    url = reverse("rooms:lock", args=[room.slug])
    login(client, owner).post(url, {"action": "lock"})
    assert Room.objects.get(pk=room.pk).is_locked
    client.post(url, {"action": "unlock"})
    assert not Room.objects.get(pk=room.pk).is_locked


def test_lock_with_a_bad_action_is_a_bad_request(client, room, owner):
    response = login(client, owner).post(reverse("rooms:lock", args=[room.slug]), {"action": "x"})
    assert response.status_code == 400
    assert not Room.objects.get(pk=room.pk).is_locked


@pytest.mark.parametrize(
    ("url_name", "data"), [("rooms:lock", {"action": "lock"}), ("rooms:end", {})]
)
def test_members_cannot_use_host_controls(client, room, member, url_name, data):
    response = login(client, member).post(reverse(url_name, args=[room.slug]), data)
    assert response.status_code == 403
    room.refresh_from_db()
    assert not room.is_locked
    assert room.ended_at is None


def test_host_ends_and_reopens_the_meeting(client, room, owner):
    login(client, owner).post(reverse("rooms:end", args=[room.slug]))
    assert Room.objects.get(pk=room.pk).ended_at is not None
    client.post(reverse("rooms:reopen", args=[room.slug]))
    assert Room.objects.get(pk=room.pk).ended_at is None


def test_owner_deletes_after_confirming(client, room, owner):
    url = reverse("rooms:delete", args=[room.slug])
    body = login(client, owner).get(url).content.decode()
    assert "cannot be undone" in body
    response = client.post(url)
    assert response["Location"] == reverse("rooms:dashboard")
    assert not Room.objects.filter(pk=room.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_co_host_cannot_delete_the_room(client, room, member, owner, method):
    services.membership_set_role(
        membership=room.memberships.get(user=member), by=owner, role=Membership.Role.HOST
    )
    response = getattr(login(client, member), method)(reverse("rooms:delete", args=[room.slug]))
    assert response.status_code == 403
    assert Room.objects.filter(pk=room.pk).exists()


def test_member_leaves_the_room(client, room, member):
    response = login(client, member).post(reverse("rooms:leave", args=[room.slug]))
    assert response["Location"] == reverse("rooms:dashboard")
    assert not room.memberships.filter(user=member).exists()


def test_owner_cannot_leave(client, room, owner):
    response = login(client, owner).post(reverse("rooms:leave", args=[room.slug]))
    assert response.status_code == 403
    assert room.memberships.filter(user=owner).exists()


def test_host_removes_and_promotes_members(client, room, owner, member):
    membership = room.memberships.get(user=member)
    login(client, owner).post(
        reverse("rooms:member_role", args=[room.slug, membership.pk]), {"role": "host"}
    )
    assert Membership.objects.get(pk=membership.pk).is_host
    client.post(reverse("rooms:member_remove", args=[room.slug, membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_member_cannot_remove_others(client, room, member, owner):
    other = add_member(room, make_user("ara"))
    response = login(client, member).post(
        reverse("rooms:member_remove", args=[room.slug, other.pk])
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=other.pk).exists()


def test_members_of_another_room_are_not_found(client, room, owner):
    elsewhere = make_room(make_user("ara"))
    other = add_member(elsewhere, make_user("bora"))
    response = login(client, owner).post(reverse("rooms:member_remove", args=[room.slug, other.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_an_unknown_role_is_a_bad_request(client, room, owner, member):
    membership = room.memberships.get(user=member)
    response = login(client, owner).post(
        reverse("rooms:member_role", args=[room.slug, membership.pk]), {"role": "admin"}
    )
    assert response.status_code == 400


# --- Invite links on the room page ---------------------------------------------------------


def create_invite(client, room, **data):
    data.setdefault("expires_in", "1d")
    data.setdefault("max_uses", "")
    return client.post(reverse("rooms:invite_create", args=[room.slug]), data)


def test_new_invite_link_is_shown_once_then_never_again(client, room, owner):
    response = create_invite(login(client, owner), room, max_uses="2")
    assert response["Location"] == room.get_absolute_url() + "#new-invite"
    body = client.get(room.get_absolute_url()).content.decode()
    link = re.search(r'value="(http://testserver/i/([^/"]+)/)"', body)
    assert link is not None
    invite = services.invite_get_by_token(token=link.group(2))
    assert invite.room == room
    assert invite.max_uses == 2
    assert 'data-copy="new-invite-link"' in body
    again = client.get(room.get_absolute_url()).content.decode()
    assert link.group(2) not in again
    assert "new-invite-link" not in again


def test_new_invite_link_never_goes_into_a_cookie(client, room, owner):
    response = create_invite(login(client, owner), room)
    page = client.get(room.get_absolute_url())
    match = re.search(r"/i/([^/\"]+)/", page.content.decode())
    assert match is not None
    token = match.group(1)
    for resp in (response, page):
        assert all(token not in morsel.value for morsel in resp.cookies.values())


def test_invite_expiry_choices_set_the_expiry(client, room, owner):
    login(client, owner)
    for choice, expected in (("1h", True), ("7d", True), ("never", False)):
        create_invite(client, room, expires_in=choice)
        invite = Invite.objects.latest("created_at")
        assert (invite.expires_at is not None) is expected


@pytest.mark.parametrize("max_uses", ["0", "101", "many"])
def test_invite_form_errors_are_shown_on_the_room_page(client, room, owner, max_uses):
    response = create_invite(login(client, owner), room, max_uses=max_uses)
    assert response.status_code == 200
    assert 'id="id_max_uses_error"' in response.content.decode()
    assert not Invite.objects.exists()


def test_members_cannot_create_invites(client, room, member):
    response = create_invite(login(client, member), room)
    assert response.status_code == 403
    assert not Invite.objects.exists()


def test_host_revokes_an_invite(client, room, owner):
    invite, _token = make_invite(room)
    login(client, owner).post(reverse("rooms:invite_revoke", args=[room.slug, invite.pk]))
    assert Invite.objects.get(pk=invite.pk).revoked_at is not None


def test_members_cannot_revoke(client, room, member):
    invite, _token = make_invite(room)
    response = login(client, member).post(
        reverse("rooms:invite_revoke", args=[room.slug, invite.pk])
    )
    assert response.status_code == 403
    assert Invite.objects.get(pk=invite.pk).revoked_at is None


def test_invites_of_another_room_are_not_found(client, room, owner):
    other = make_room(owner, "Other")
    invite, _token = make_invite(other)
    response = login(client, owner).post(
        reverse("rooms:invite_revoke", args=[room.slug, invite.pk])
    )
    assert response.status_code == 404


def test_signed_in_pages_are_reachable_by_password_login(client, owner):
    assert client.login(username="minji", password=PASSWORD)
    assert client.get(reverse("rooms:dashboard")).status_code == 200
