"""Opening an invite link, signing up or in on the way, and accepting it."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from rooms import services
from rooms.models import Invite
from rooms.session import PENDING_INVITE_KEY

from .conftest import PASSWORD, make_invite, make_user

pytestmark = pytest.mark.django_db

CONFIRM = reverse("rooms:invite_confirm")


def open_link(client, token):
    return client.get(reverse("rooms:invite_open", args=[token]))


def sign_up(client, username, **extra):
    data = {
        "email": f"{username}@example.com",
        "username": username,
        "display_name": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }
    return client.post(reverse("account_signup"), data)


def test_anonymous_visitor_is_sent_to_sign_up_and_back_to_the_invite(client, room):
    _invite, token = make_invite(room)
    response = open_link(client, token)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_signup')}?next={CONFIRM}"
    assert response["Referrer-Policy"] == "no-referrer"
    assert token not in response["Location"]
    assert client.session[PENDING_INVITE_KEY]["room_name"] == "Design review"


@override_settings(ACCOUNT_ALLOW_SIGNUP=False)
def test_with_sign_up_closed_the_visitor_is_sent_to_log_in(client, room):
    _invite, token = make_invite(room)
    response = open_link(client, token)
    assert response["Location"] == f"{reverse('account_login')}?next={CONFIRM}"


@pytest.mark.parametrize("url_name", ["account_signup", "account_login"])
def test_sign_up_and_log_in_pages_name_the_room_waiting(client, room, url_name):
    _invite, token = make_invite(room)
    open_link(client, token)
    body = client.get(reverse(url_name) + f"?next={CONFIRM}").content.decode()
    assert "Sign in or create an account to join “Design review”." in body
    assert token not in body


def test_sign_up_pages_without_an_invite_have_no_note(client):
    body = client.get(reverse("account_signup")).content.decode()
    assert "Sign in or create an account to join" not in body


def test_new_user_signs_up_accepts_and_lands_in_the_room(client, room):
    invite, token = make_invite(room, max_uses=1)
    open_link(client, token)
    response = sign_up(client, "hana", display_name="Hana Kim")
    assert response.status_code == 302
    assert response["Location"] == CONFIRM

    page = client.get(CONFIRM)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Minji invited you to “Design review”" in body
    assert token not in body

    response = client.post(CONFIRM)
    assert response["Location"] == room.get_absolute_url()
    hana = room.memberships.get(user__username="hana")
    assert hana.user.get_display_name() == "Hana Kim"
    assert not hana.is_host
    assert Invite.objects.get(pk=invite.pk).use_count == 1
    assert PENDING_INVITE_KEY not in client.session
    assert client.get(room.get_absolute_url()).status_code == 200


def test_existing_user_logs_in_and_comes_back_to_the_invite(client, room, stranger):
    _invite, token = make_invite(room)
    open_link(client, token)
    response = client.post(
        reverse("account_login") + f"?next={CONFIRM}",
        {"login": "sora@example.com", "password": PASSWORD, "next": CONFIRM},
    )
    assert response["Location"] == CONFIRM
    client.post(CONFIRM)
    assert room.memberships.filter(user=stranger).exists()


def test_logging_in_without_next_still_returns_to_a_waiting_invite(client, room, stranger):
    _invite, token = make_invite(room)
    open_link(client, token)
    response = client.post(reverse("account_login"), {"login": "sora", "password": PASSWORD})
    assert response["Location"] == CONFIRM


def test_logging_in_without_an_invite_goes_to_the_dashboard(client, stranger):
    response = client.post(reverse("account_login"), {"login": "sora", "password": PASSWORD})
    assert response["Location"] == reverse("rooms:dashboard")


def test_signed_in_user_opening_a_link_goes_straight_to_the_confirmation(client, room, stranger):
    _invite, token = make_invite(room)
    client.force_login(stranger)
    response = open_link(client, token)
    assert response["Location"] == CONFIRM
    assert response["Referrer-Policy"] == "no-referrer"


def test_opening_a_link_twice_makes_one_membership_and_lands_in_the_room(client, room, stranger):
    invite, token = make_invite(room, max_uses=1)
    client.force_login(stranger)
    open_link(client, token)
    client.post(CONFIRM)
    response = open_link(client, token)
    assert response["Location"] == room.get_absolute_url()
    body = client.get(response["Location"]).content.decode()
    assert "You are already a member of “Design review”." in body
    assert room.memberships.filter(user=stranger).count() == 1
    assert Invite.objects.get(pk=invite.pk).use_count == 1


def test_members_opening_any_link_to_their_room_are_taken_there(client, room, member):
    _invite, token = make_invite(room)
    client.force_login(member)
    response = client.get(open_link(client, token)["Location"])
    assert response["Location"] == room.get_absolute_url()


def test_confirmation_post_is_protected_by_csrf(room, stranger):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    _invite, token = make_invite(room)
    client.force_login(stranger)
    open_link(client, token)
    assert client.post(CONFIRM).status_code == 403
    assert not room.memberships.filter(user=stranger).exists()


def test_confirmation_page_requires_sign_in(client):
    response = client.get(CONFIRM)
    assert response["Location"] == f"{reverse('account_login')}?next={CONFIRM}"


def test_confirmation_without_an_opened_link_says_so(client, stranger):
    client.force_login(stranger)
    response = client.get(CONFIRM)
    assert response.status_code == 404
    assert "No invitation is waiting" in response.content.decode()


def test_invite_open_refuses_post(client, room):
    _invite, token = make_invite(room)
    assert client.post(reverse("rooms:invite_open", args=[token])).status_code == 405


# --- Links that no longer work -----------------------------------------------------------


def spoil(invite, how):
    if how == "expired":
        Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif how == "revoked":
        services.invite_revoke(invite=invite, by=None)
    elif how == "used_up":
        Invite.objects.filter(pk=invite.pk).update(use_count=invite.max_uses)


EXPLANATIONS = {
    "expired": "This invite link has expired",
    "revoked": "This invite link was revoked",
    "used_up": "This invite link has been used up",
}


@pytest.mark.parametrize("how", ["expired", "revoked", "used_up"])
def test_unusable_link_shows_why_with_410(client, room, how):
    invite, token = make_invite(room, max_uses=1)
    spoil(invite, how)
    response = open_link(client, token)
    body = response.content.decode()
    assert response.status_code == 410
    assert EXPLANATIONS[how] in body
    assert "Ask Minji for a new link to “Design review”." in body
    assert response["Referrer-Policy"] == "no-referrer"
    assert PENDING_INVITE_KEY not in client.session


def test_unknown_link_shows_a_clear_404(client):
    response = open_link(client, "not-a-real-token")
    assert response.status_code == 404
    assert "This invite link doesn’t work" in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"


def test_pages_at_a_token_url_have_no_post_forms(client, room, stranger):
    """Browsers send Origin: null from a no-referrer page, which fails CSRF."""
    invite, token = make_invite(room)
    spoil(invite, "revoked")
    client.force_login(stranger)
    for url_token in (token, "unknown-token"):
        body = open_link(client, url_token).content.decode().lower()
        assert 'method="post"' not in body


def test_token_page_is_never_cached(client, room):
    _invite, token = make_invite(room)
    assert "no-store" in open_link(client, token)["Cache-Control"]


def test_link_revoked_after_opening_shows_revoked_on_accept(client, room, stranger):
    invite, token = make_invite(room)
    client.force_login(stranger)
    open_link(client, token)
    spoil(invite, "revoked")
    response = client.post(CONFIRM)
    assert response.status_code == 410
    assert "This invite link was revoked" in response.content.decode()
    assert not room.memberships.filter(user=stranger).exists()
    assert PENDING_INVITE_KEY not in client.session


def test_link_expired_before_confirmation_page_shows_expired(client, room, stranger):
    invite, token = make_invite(room)
    client.force_login(stranger)
    open_link(client, token)
    spoil(invite, "expired")
    response = client.get(CONFIRM)
    assert response.status_code == 410
    assert "This invite link has expired" in response.content.decode()


def test_token_appears_in_no_page_of_the_whole_flow(client, room, owner):
    """Only the one-time display on the room page shows the link."""
    client.force_login(owner)
    client.post(
        reverse("rooms:invite_create", args=[room.slug]), {"expires_in": "1d", "max_uses": ""}
    )
    shown = client.get(room.get_absolute_url()).content.decode()
    token = shown.split("/i/")[1].split("/")[0]
    assert len(token) >= 22
    bodies = [client.get(room.get_absolute_url()).content.decode()]
    client.logout()
    response = open_link(client, token)
    bodies.append(response.content.decode())
    for url in (response["Location"], reverse("account_login") + f"?next={CONFIRM}"):
        bodies.append(client.get(url).content.decode())
    response = sign_up(client, "hana")
    bodies += [client.get(CONFIRM).content.decode()]
    response = client.post(CONFIRM, follow=True)
    bodies.append(response.content.decode())
    bodies.append(client.get(reverse("rooms:dashboard")).content.decode())
    assert all(token not in body for body in bodies)


def test_a_second_user_in_another_session_can_use_a_multi_use_link(client, room):
    invite, token = make_invite(room, max_uses=2)
    for name in ("ara", "bora"):
        client.logout()
        client.force_login(make_user(name))
        open_link(client, token)
        client.post(CONFIRM)
    assert Invite.objects.get(pk=invite.pk).use_count == 2
    assert room.memberships.count() == 4
