"""What people see when something goes wrong (DEBUG is off in tests)."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from rooms import selectors, views

pytestmark = pytest.mark.django_db


def test_unknown_page_shows_the_site_404(client):
    response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "This page doesn’t exist" in body
    assert reverse("rooms:landing") in body
    assert 'rel="icon"' in body


def test_bad_host_shows_the_site_400(client):
    response = client.get("/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert "That request could not be understood" in response.content.decode()


def test_403_without_a_reason_says_so_politely(client, owner, room, monkeypatch):
    from django.core.exceptions import PermissionDenied

    def deny(*args, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr(views, "call_config", deny)
    client.force_login(owner)
    response = client.get(room.get_call_url())
    assert response.status_code == 403
    assert "You don’t have permission to do that." in response.content.decode()


def test_failed_csrf_check_shows_a_friendly_page(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("rooms:create"), {"name": "X", "max_participants": "4"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "The form could not be sent" in body
    assert "reload the page" in body


def test_server_error_page_needs_no_context():
    body = render_to_string("500.html")
    assert "Something went wrong on our side" in body
    assert "meet.css" in body


def test_unexpected_errors_show_the_500_page(client, owner, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "rooms_for_user", broken)
    client.raise_request_exception = False
    client.force_login(owner)
    response = client.get(reverse("rooms:dashboard"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "boom" not in response.content.decode()
