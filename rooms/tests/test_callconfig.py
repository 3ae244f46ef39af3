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

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "rooms" / "call.html"


def call_strings() -> list[object]:
    """Every string the call page uses: its config's (each plural form too) and
    its template's, as lazy translations or msgids."""
    texts: list[object] = []
    for value in STRINGS.values():
        texts += list(value.values()) if isinstance(value, dict) else [value]
    template = TEMPLATE.read_text()
    texts += re.findall(r'{% translate "([^"]+)" %}', template)
    texts += re.findall(r"{% translate '([^']+)' %}", template)
    return texts


def test_every_call_string_has_a_korean_translation():
    # Through Django's own catalog (the committed .mo), plural forms included.
    missing = []
    for text in call_strings():
        with translation.override("en"):
            english = str(text) if not isinstance(text, str) else text
        with translation.override("ko"):
            korean = str(text) if not isinstance(text, str) else translation.gettext(text)
        if korean == english:
            missing.append(english)
        # Placeholders survive translation.
        assert re.findall(r"%\(\w+\)s", korean) == re.findall(r"%\(\w+\)s", english), english
    assert missing == []


def test_counts_have_their_plural_forms_in_both_languages():
    with translation.override("en"):
        assert str(STRINGS["chatUnread"]["one"]) == "%(n)s unread message"  # type: ignore[index]
        assert str(STRINGS["chatUnread"]["other"]) == "%(n)s unread messages"  # type: ignore[index]
    with translation.override("ko"):
        forms = {str(text) for text in STRINGS["chatUnread"].values()}  # type: ignore[union-attr]
        assert forms == {"읽지 않은 메시지 %(n)s개"}


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
    settings.CALL_FILE_MAX_BYTES = 5_000_000
    owner = django_user_model.objects.create_user("minji", password="pw", display_name="민지")
    room = services.room_create(owner=owner, name="주간 회의")
    request = RequestFactory().get("/")
    request.user = owner
    config = call_config(request=request, room=room, membership=room.memberships.get())
    assert config["ws"] == f"/ws/rooms/{room.slug}/"
    assert config["me"] == {"name": "민지", "host": True}
    assert config["media"]["video"]["width"] == {"ideal": 320}
    assert config["budget"]["videoKbps"] == settings.CALL_VIDEO_BUDGET_KBPS
    assert config["files"] == {"maxBytes": 5_000_000}
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
