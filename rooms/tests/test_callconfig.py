"""The call page's configuration, its Korean strings, and the in-call invite endpoint."""

import re
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from rooms import services
from rooms.callconfig import STRINGS, call_config, video_constraints
from rooms.models import Membership

PO = Path(__file__).resolve().parents[2] / "locale" / "ko" / "LC_MESSAGES" / "django.po"
TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "rooms" / "call.html"


def korean_catalog() -> dict[str, str]:
    """msgid → msgstr from the Korean PO file (single-line entries, as written there)."""
    entries = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', PO.read_text(), re.MULTILINE)
    return {msgid.replace('\\"', '"'): msgstr for msgid, msgstr in entries}


def test_every_call_string_has_a_korean_translation():
    catalog = korean_catalog()
    template_ids = re.findall(r'{% translate "([^"]+)" %}', TEMPLATE.read_text())
    template_ids += re.findall(r"{% translate '([^']+)' %}", TEMPLATE.read_text())
    with translation.override(None):
        msgids = [str(text) for text in STRINGS.values()] + template_ids
    missing = [msgid for msgid in msgids if not catalog.get(msgid)]
    assert missing == []
    # Placeholders survive translation.
    for msgid in msgids:
        assert re.findall(r"%\(\w+\)s", catalog[msgid]) == re.findall(r"%\(\w+\)s", msgid)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1280x720@30", (1280, 720, 30)),
        ("320x180@15", (320, 180, 15)),
        (" 640 x 480 ", (640, 480, 30)),
        ("nonsense", (1280, 720, 30)),
    ],
)
def test_video_constraints_are_ideal_values_from_the_setting(spec, expected):
    constraints = video_constraints(spec)
    width, height, fps = expected
    assert constraints == {
        "width": {"ideal": width},
        "height": {"ideal": height},
        "frameRate": {"ideal": fps},
    }


@pytest.mark.django_db
def test_call_config_has_what_the_page_needs(django_user_model, settings):
    settings.CALL_VIDEO = "320x180@15"
    owner = django_user_model.objects.create_user("minji", password="pw", display_name="민지")
    room = services.room_create(owner=owner, name="주간 회의")
    request = RequestFactory().get("/")
    request.user = owner
    config = call_config(request=request, room=room, membership=room.memberships.get())
    assert config["ws"] == f"/ws/rooms/{room.slug}/"
    assert config["me"] == {"name": "민지", "host": True}
    assert config["media"]["video"]["width"] == {"ideal": 320}
    assert config["budget"]["videoKbps"] == settings.CALL_VIDEO_BUDGET_KBPS
    assert config["urls"]["invite"] == reverse("rooms:call_invite", kwargs={"slug": room.slug})
    assert config["csrf"]
    assert set(config["strings"]) == set(STRINGS)


@pytest.mark.django_db
def test_call_invite_is_for_hosts_only_and_needs_csrf(django_user_model):
    owner = django_user_model.objects.create_user("minji", password="pw")
    member = django_user_model.objects.create_user("alex", password="pw")
    room = services.room_create(owner=owner, name="Standup")
    Membership.objects.create(room=room, user=member)
    url = reverse("rooms:call_invite", kwargs={"slug": room.slug})

    host = Client(enforce_csrf_checks=True)
    host.force_login(owner)
    assert host.post(url).status_code == 403  # no CSRF token
    token = host.get(room.get_call_url()).context["call_config"]["csrf"]
    response = host.post(url, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert "/i/" in response.json()["url"]
    assert room.invites.get().expires_at is not None

    guest = Client()
    guest.force_login(member)
    assert guest.post(url).status_code == 403
    assert guest.get(url).status_code == 405
    assert room.invites.count() == 1
