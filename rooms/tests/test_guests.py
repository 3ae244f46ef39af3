"""Guests through an invite, without an account (rooms/guests.py, services.guest_join)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rooms import services, throttle
from rooms.guests import GUEST_PASS_KEY, GUEST_PASS_SALT, pass_issue
from rooms.models import AuditEvent, Guest, Invite
from rooms.services import InviteInvalid

from .conftest import make_room

pytestmark = pytest.mark.django_db

GUEST_URL = reverse("rooms:invite_guest")
LIFETIME = timedelta(hours=12)


def guest_invite(room, **fields) -> tuple[Invite, str]:
    return services.invite_create(room=room, created_by=room.owner, allow_guests=True, **fields)


def open_invite(client: Client, token: str):
    return client.get(reverse("rooms:invite_open", args=[token]))


def join_as_guest(client: Client, token: str, name: str = "손님 하나", **extra):
    open_invite(client, token)
    return client.post(GUEST_URL, {"display_name": name}, **extra)


def test_a_signed_out_visitor_of_a_guest_invite_gets_both_choices(room):
    _invite, token = guest_invite(room)
    client = Client()
    response = open_invite(client, token)
    assert response.status_code == 302
    assert response["Location"] == GUEST_URL
    page = client.get(GUEST_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="display_name"' in html
    assert "Join as a guest" in html
    assert reverse("account_login") in html


def test_an_invite_without_guests_still_sends_signed_out_visitors_to_sign_up(room):
    _invite, token = services.invite_create(room=room, created_by=room.owner)
    response = open_invite(Client(), token)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_signup"))


def test_a_guest_cannot_post_through_an_invite_that_does_not_allow_guests(room):
    _invite, token = services.invite_create(room=room, created_by=room.owner)
    client = Client()
    open_invite(client, token)
    response = client.post(GUEST_URL, {"display_name": "Mallory"})
    assert response.status_code == 302
    assert not Guest.objects.exists()


def test_joining_as_a_guest_creates_the_guest_uses_the_invite_and_opens_the_call(room):
    invite, token = guest_invite(room)
    client = Client()
    response = join_as_guest(client, token, "  손님 하나  ")
    assert response.status_code == 302
    assert response["Location"] == room.get_call_url()
    guest = Guest.objects.get()
    assert (guest.display_name, guest.room, guest.invite) == ("손님 하나", room, invite)
    assert guest.expires_at > timezone.now() + LIFETIME - timedelta(minutes=1)
    invite.refresh_from_db()
    assert invite.use_count == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.GUEST_JOINED, invite=invite).exists()
    call = client.get(room.get_call_url())
    assert call.status_code == 200
    assert call.context["call_config"]["me"] == {"name": "손님 하나", "host": False, "guest": True}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "Enter the name the others will see."),
        ("   ", "Enter the name the others will see."),
        ("가" * 51, "Use at most 50 characters (this has 51)."),
        ("Bad\u0007name", "control characters"),
        ("Bad\nname", "control characters"),
        ("evil\u202egnp", "control characters"),
    ],
)
def test_a_bad_guest_name_is_refused_with_a_clear_error_and_nothing_lost(room, name, error):
    invite, token = guest_invite(room)
    client = Client()
    response = join_as_guest(client, token, name)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Guest.objects.exists()
    invite.refresh_from_db()
    assert invite.use_count == 0
    # The invite is still waiting in the session: a corrected name goes through.
    assert client.post(GUEST_URL, {"display_name": "가" * 50}).status_code == 302


def test_a_used_up_invite_lets_no_more_guests_in(room):
    _invite, token = guest_invite(room, max_uses=1)
    assert join_as_guest(Client(), token, "One").status_code == 302
    assert open_invite(Client(), token).status_code == 410
    with pytest.raises(InviteInvalid):
        services.guest_join(token=token, display_name="Two", lifetime=LIFETIME)
    assert Guest.objects.count() == 1


def test_the_last_use_goes_to_one_guest_when_two_submit_after_opening(room):
    _invite, token = guest_invite(room, max_uses=1)
    first, second = Client(), Client()
    open_invite(first, token)
    open_invite(second, token)
    assert first.post(GUEST_URL, {"display_name": "One"}).status_code == 302
    assert second.post(GUEST_URL, {"display_name": "Two"}).status_code == 410
    assert list(Guest.objects.values_list("display_name", flat=True)) == ["One"]


def test_a_revoked_or_expired_invite_lets_no_guest_in(room):
    invite, token = guest_invite(room, expires_in=timedelta(hours=1))
    client = Client()
    open_invite(client, token)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.post(GUEST_URL, {"display_name": "Late"}).status_code == 410
    with pytest.raises(InviteInvalid):
        services.guest_join(token=token, display_name="Late", lifetime=LIFETIME)
    assert not Guest.objects.exists()


def test_guest_creation_is_throttled_per_address(room, settings):
    settings.GUEST_CREATE_LIMIT = 2
    _invite, token = guest_invite(room)
    for n in range(2):
        assert join_as_guest(Client(), token, f"G{n}", REMOTE_ADDR="203.0.113.9").status_code == 302
    response = join_as_guest(Client(), token, "G3", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many guests from your network" in response.content.decode()
    assert Guest.objects.count() == 2
    # Someone on another address is not affected.
    assert join_as_guest(Client(), token, "Other", REMOTE_ADDR="198.51.100.4").status_code == 302


def test_the_guest_throttle_ends_with_its_window(room, settings, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(throttle, "clock", lambda: now[0])
    settings.GUEST_CREATE_LIMIT = 1
    _invite, token = guest_invite(room)
    assert join_as_guest(Client(), token, "A").status_code == 302
    assert join_as_guest(Client(), token, "B").status_code == 429
    now[0] += settings.GUEST_CREATE_WINDOW
    assert join_as_guest(Client(), token, "B").status_code == 302


# --- What a guest can reach -------------------------------------------------------------


@pytest.fixture
def guest_client(room) -> Client:
    _invite, token = guest_invite(room)
    client = Client()
    assert join_as_guest(client, token).status_code == 302
    return client


def test_a_guest_reaches_only_the_call_page_of_their_room(room, owner, guest_client):
    other = make_room(owner, "Other room")
    assert guest_client.get(room.get_call_url()).status_code == 200
    login = reverse("account_login")
    for url in (
        room.get_absolute_url(),
        reverse("rooms:invite_create", args=[room.slug]),
        reverse("rooms:update", args=[room.slug]),
        reverse("rooms:dashboard"),
        other.get_absolute_url(),
    ):
        response = guest_client.get(url)
        assert response.status_code in (302, 405), url
        if response.status_code == 302:
            assert response["Location"].startswith(login), url
    response = guest_client.get(other.get_call_url())
    assert response.status_code == 302
    assert response["Location"].startswith(login)
    response = guest_client.post(reverse("rooms:call_invite", args=[room.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(login)


@pytest.mark.parametrize(
    "forge",
    [
        lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),
        lambda value: signing.dumps({"guest": 1, "room": 1}, salt="another-salt"),
        lambda value: "not a pass",
        lambda value: 12345,
    ],
    ids=["tampered", "wrong-salt", "garbage", "not-a-string"],
)
def test_a_forged_guest_pass_is_no_pass(room, guest_client, forge):
    session = guest_client.session
    session[GUEST_PASS_KEY] = forge(session[GUEST_PASS_KEY])
    session.save()
    response = guest_client.get(room.get_call_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_pass_for_another_guest_id_or_room_is_no_pass(room, owner, guest_client):
    other = make_room(owner, "Other room")
    guest = Guest.objects.get()
    session = guest_client.session
    session[GUEST_PASS_KEY] = signing.dumps(
        {"guest": guest.pk, "room": other.pk}, salt=GUEST_PASS_SALT
    )
    session.save()
    assert guest_client.get(room.get_call_url()).status_code == 302
    assert guest_client.get(other.get_call_url()).status_code == 302


def test_an_expired_guest_pass_is_no_pass(room, guest_client, settings, monkeypatch):
    guest = Guest.objects.get()
    issued_at = timezone.now().timestamp()
    monkeypatch.setattr("django.core.signing.time.time", lambda: issued_at - 120)
    old = pass_issue(guest)
    monkeypatch.undo()
    settings.GUEST_LIFETIME = 60
    session = guest_client.session
    session[GUEST_PASS_KEY] = old
    session.save()
    response = guest_client.get(room.get_call_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_guest_row_past_its_expiry_opens_nothing(room, guest_client):
    Guest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = guest_client.get(room.get_call_url(), follow=True)
    assert "Your guest access to this meeting has ended" in response.content.decode()


@pytest.mark.parametrize(
    "ended",
    [{"removed_at": timezone.now()}, {"expires_at": timezone.now() - timedelta(seconds=1)}],
    ids=["removed", "expired"],
)
def test_a_guest_whose_socket_is_refused_as_signed_out_is_told_their_access_ended(
    room, guest_client, ended
):
    """The page follows ``urls.login`` when its socket closes 4401 before the
    join (static/js/call/main.js): for a guest, the call page, which says why."""
    config = guest_client.get(room.get_call_url()).context["call_config"]
    Guest.objects.update(**ended)
    response = guest_client.get(config["urls"]["login"], follow=True)
    assert "Your guest access to this meeting has ended" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


# --- Removal ------------------------------------------------------------------------------


def test_revoking_the_invite_removes_its_guests_at_once(
    room, guest_client, live_events, django_capture_on_commit_callbacks
):
    guest = Guest.objects.get()
    invite = guest.invite
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_revoke(invite=invite, by=room.owner)
    guest.refresh_from_db()
    assert guest.removed_at is not None
    assert ("guests_removed", {"room_id": room.pk, "participant_ids": [-guest.pk]}) in live_events
    assert guest_client.get(room.get_call_url()).status_code == 302


def test_ending_the_meeting_removes_guests_and_reopening_does_not_bring_them_back(
    room, guest_client
):
    services.room_end(room=room, by=room.owner)
    services.room_reopen(room=room, by=room.owner)
    assert Guest.objects.get().removed_at is not None
    assert guest_client.get(room.get_call_url()).status_code == 302


def test_no_guest_joins_an_ended_meeting(room):
    _invite, token = guest_invite(room)
    services.room_end(room=room, by=room.owner)
    client = Client()
    response = join_as_guest(client, token)
    assert response.status_code == 410
    assert "This meeting has ended" in response.content.decode()


# --- Hosts' side -------------------------------------------------------------------------


def test_the_invite_form_offers_guests_and_the_list_shows_them(room, owner):
    client = Client()
    client.force_login(owner)
    response = client.post(
        reverse("rooms:invite_create", args=[room.slug]),
        {"expires_in": "1d", "max_uses": "", "allow_guests": "on"},
    )
    assert response.status_code == 302
    assert Invite.objects.get().allow_guests is True
    page = client.get(room.get_absolute_url()).content.decode()
    assert "Allow guests (no account needed)" in page
    assert "Guests allowed" in page


def test_a_signed_in_person_opening_a_guest_invite_becomes_a_member_as_before(room, stranger):
    _invite, token = guest_invite(room)
    client = Client()
    client.force_login(stranger)
    response = open_invite(client, token)
    assert response["Location"] == reverse("rooms:invite_confirm")
    assert client.get(GUEST_URL)["Location"] == reverse("rooms:invite_confirm")


def test_a_host_or_the_admin_removes_one_guest(
    room, member, guest_client, live_events, django_capture_on_commit_callbacks
):
    guest = Guest.objects.get()
    with pytest.raises(PermissionDenied):
        services.guest_remove(guest=guest, by=member)
    with django_capture_on_commit_callbacks(execute=True):
        services.guest_remove(guest=guest, by=room.owner)
    assert Guest.objects.get().removed_at is not None
    assert live_events == [("guests_removed", {"room_id": room.pk, "participant_ids": [-guest.pk]})]


def test_the_admin_lists_guests_filters_by_room_and_removes_them(
    admin_client, room, owner, guest_client, live_events, django_capture_on_commit_callbacks
):
    from .test_admin import run_action

    guests = reverse("admin:rooms_guest_changelist")
    other = make_room(owner, "Other room")
    assert "손님 하나" in admin_client.get(guests).content.decode()
    assert (
        "손님 하나" not in admin_client.get(f"{guests}?room__id__exact={other.pk}").content.decode()
    )
    assert "손님 하나" in admin_client.get(f"{guests}?room__id__exact={room.pk}").content.decode()
    invites = admin_client.get(reverse("admin:rooms_invite_changelist")).content.decode()
    assert "guests allowed" in invites.lower()
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, guests, "remove_guests", list(Guest.objects.all()))
    assert "1 guest removed." in response.content.decode()
    assert Guest.objects.get().removed_at is not None
    assert [name for name, _kwargs in live_events] == ["guests_removed"]


def test_the_room_activity_names_the_guest_who_joined(room, owner, guest_client):
    client = Client()
    client.force_login(owner)
    page = client.get(room.get_absolute_url()).content.decode()
    assert "손님 하나 joined as a guest through an invite link" in page


def test_signing_in_from_the_guest_page_still_makes_a_member(room, stranger):
    _invite, token = guest_invite(room)
    client = Client()
    open_invite(client, token)
    client.force_login(stranger)
    assert client.get(GUEST_URL)["Location"] == reverse("rooms:invite_confirm")
    response = client.post(reverse("rooms:invite_confirm"))
    assert response.status_code == 302
    assert room.memberships.filter(user=stranger).exists()
    assert not Guest.objects.exists()


def test_hosts_see_the_guests_on_the_room_page_and_remove_one(
    room, owner, member, guest_client, live_events, django_capture_on_commit_callbacks
):
    guest = Guest.objects.get()
    host = Client()
    host.force_login(owner)
    page = host.get(room.get_absolute_url()).content.decode()
    assert 'id="guests"' in page
    assert "손님 하나" in page
    # Members who are not hosts see no guest list, and cannot remove guests.
    other = Client()
    other.force_login(member)
    assert 'id="guests"' not in other.get(room.get_absolute_url()).content.decode()
    remove = reverse("rooms:guest_remove", args=[room.slug, guest.pk])
    assert other.post(remove).status_code == 403
    assert Guest.objects.get().removed_at is None

    with django_capture_on_commit_callbacks(execute=True):
        response = host.post(remove, follow=True)
    assert "손님 하나 (guest) was removed from the meeting." in response.content.decode()
    assert Guest.objects.get().removed_at is not None
    assert live_events == [("guests_removed", {"room_id": room.pk, "participant_ids": [-guest.pk]})]
    assert 'id="guests"' not in host.get(room.get_absolute_url()).content.decode()
    # The guest's pass no longer opens the call.
    assert guest_client.get(room.get_call_url()).status_code == 302


def test_removing_a_guest_of_another_room_is_not_found(room, owner, guest_client):
    guest = Guest.objects.get()
    other = make_room(owner, "Other room")
    host = Client()
    host.force_login(owner)
    response = host.post(reverse("rooms:guest_remove", args=[other.slug, guest.pk]))
    assert response.status_code == 404
    assert Guest.objects.get().removed_at is None
