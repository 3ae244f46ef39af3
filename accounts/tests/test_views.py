import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture
def user(django_user_model) -> User:
    return django_user_model.objects.create_user(
        "minji", email="minji@example.com", password=PASSWORD
    )


def signup_data(**overrides):
    return {
        "email": "hana@example.com",
        "username": "hana",
        "display_name": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def test_sign_up_with_a_display_name_signs_in_and_opens_the_dashboard(client):
    response = client.post(reverse("account_signup"), signup_data(display_name="  Hana   Kim "))
    assert response["Location"] == reverse("rooms:dashboard")
    user = User.objects.get(username="hana")
    assert user.display_name == "Hana Kim"
    assert client.get(reverse("rooms:dashboard")).status_code == 200


def test_sign_up_without_a_display_name_uses_the_username(client):
    client.post(reverse("account_signup"), signup_data())
    assert User.objects.get(username="hana").get_display_name() == "hana"


def test_sign_up_sends_the_verification_email(client):
    client.post(reverse("account_signup"), signup_data())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["hana@example.com"]


def test_sign_up_shows_field_errors_in_the_site_layout(client, user):
    response = client.post(
        reverse("account_signup"), signup_data(username="minji", password2="different")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_username_error"' in body
    assert 'class="site-header"' in body
    assert not User.objects.filter(email="hana@example.com").exists()


@override_settings(ACCOUNT_ALLOW_SIGNUP=False)
def test_sign_up_can_be_closed(client):
    response = client.post(reverse("account_signup"), signup_data())
    assert not User.objects.filter(username="hana").exists()
    assert "Sign Up Closed" in response.content.decode()


@pytest.mark.parametrize("login", ["minji", "minji@example.com"])
def test_log_in_by_username_or_email(client, user, login):
    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    assert response["Location"] == reverse("rooms:dashboard")


def test_wrong_password_is_explained(client, user):
    response = client.post(reverse("account_login"), {"login": "minji", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_signed_in_message_uses_the_display_name(client, user):
    user.display_name = "Kim Minji"
    user.save()
    response = client.post(
        reverse("account_login"), {"login": "minji", "password": PASSWORD}, follow=True
    )
    assert "Successfully signed in as Kim Minji." in response.content.decode()


def test_log_out_from_the_header_form(client, user):
    client.force_login(user)
    body = client.get(reverse("rooms:dashboard")).content.decode()
    assert f'action="{reverse("account_logout")}"' in body
    client.post(reverse("account_logout"))
    assert client.get(reverse("rooms:dashboard")).status_code == 302


def test_password_reset_email_goes_out(client, user):
    client.post(reverse("account_reset_password"), {"email": "minji@example.com"})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_change(client, user):
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-password",
            "password2": "another-long-password",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-password")


@pytest.mark.parametrize("name", ["account_email", "account_change_password", "accounts:profile"])
def test_account_pages_share_the_site_layout_and_account_tabs(client, user, name):
    client.force_login(user)
    body = client.get(reverse(name)).content.decode()
    assert 'class="site-header"' in body
    assert f'href="{reverse("accounts:profile")}"' in body
    assert f'href="{reverse("account_email")}"' in body
    assert f'href="{reverse("account_change_password")}"' in body


def test_profile_requires_sign_in(client):
    response = client.get(reverse("accounts:profile"))
    assert response["Location"] == f"{reverse('account_login')}?next={reverse('accounts:profile')}"


def test_profile_saves_the_display_name(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"display_name": " Kim   Minji "})
    assert response["Location"] == reverse("accounts:profile")
    user.refresh_from_db()
    assert user.display_name == "Kim Minji"


def test_profile_shows_field_errors(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"display_name": "x" * 51})
    assert response.status_code == 200
    assert 'id="id_display_name_error"' in response.content.decode()


def test_admin_sign_in_goes_through_the_site_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('account_login')}?next=%2Fadmin%2F"
    assert "Sign In" in response.content.decode()


def test_staff_signed_in_on_the_site_reach_the_admin(client, django_user_model):
    django_user_model.objects.create_user(
        "boss", email="boss@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    client.post(reverse("account_login"), {"login": "boss", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_non_staff_are_kept_out_of_the_admin(client, user):
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "You can’t open this page" in response.content.decode()
