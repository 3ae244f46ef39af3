"""The Korean catalog is complete, compiled, and used by the pages."""

import ast
import gettext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rooms.models import Invite

from .conftest import make_invite

CATALOG = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES"


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for msgfmt's output format, no dependency."""
    entries: list[Entry] = []
    entry, key = Entry(), None

    def finish() -> None:
        nonlocal entry, key
        if key is not None:
            entries.append(entry)
        entry, key = Entry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue  # obsolete entries are not compiled
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            append(entry, key, ast.literal_eval(line))
        else:
            keyword, _, rest = line.partition(" ")
            key = keyword
            append(entry, key, ast.literal_eval(rest), start=True)
    finish()
    return entries


def append(entry: Entry, key: str | None, text: str, start: bool = False) -> None:
    if key == "msgctxt":
        entry.msgctxt = ("" if start else entry.msgctxt or "") + text
    elif key == "msgid":
        entry.msgid = ("" if start else entry.msgid) + text
    elif key == "msgid_plural":
        entry.msgid_plural = ("" if start else entry.msgid_plural or "") + text
    elif key is not None and key.startswith("msgstr"):
        index = int(key[7:-1]) if key != "msgstr" else 0
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + text


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(CATALOG / "django.po")


def test_korean_catalog_has_no_empty_or_fuzzy_entries(po_entries):
    messages = [e for e in po_entries if e.msgid]
    assert len(messages) > 150
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    assert [e.msgid for e in messages if not all(e.msgstr.values()) or not e.msgstr] == []
    assert "fuzzy" not in po_entries[0].flags  # the header


def test_korean_catalog_keeps_every_placeholder(po_entries):
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]")
    for entry in po_entries:
        if not entry.msgid:
            continue
        expected = set(placeholder.findall(entry.msgid))
        for text in entry.msgstr.values():
            assert set(placeholder.findall(text)) == expected, entry.msgid


def test_compiled_catalog_matches_the_po_file(po_entries):
    with (CATALOG / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    expected: dict[object, str] = {}
    for entry in po_entries[1:]:  # the header differs: msgfmt drops a date
        msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(msgid, index)] = text
    actual = {key: text for key, text in compiled._catalog.items() if key != ""}  # type: ignore[attr-defined]
    assert actual == expected
    assert compiled.info()["plural-forms"] == "nplurals=1; plural=0;"


# --- Pages in Korean -----------------------------------------------------------------


@pytest.mark.django_db
def test_landing_page_follows_the_browsers_korean(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.5")
    body = response.content.decode()
    assert '<html lang="ko">' in body
    assert "계정 만들기" in body
    assert "Create an account" not in body


@pytest.mark.django_db
def test_english_is_the_default_for_other_languages(client):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="en">' in body
    assert "Create an account" in body


@pytest.mark.django_db
def test_language_switch_changes_and_remembers_the_language(client):
    response = client.post(reverse("set_language"), {"language": "ko", "next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert "계정 만들기" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Create an account" in client.get("/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()


@pytest.mark.django_db
def test_every_page_offers_the_language_switch_back_to_itself(client):
    body = client.get("/accounts/login/?next=/invite/").content.decode()
    assert f'action="{reverse("set_language")}"' in body
    assert 'name="next" value="/accounts/login/?next=/invite/"' in body
    assert 'value="ko" lang="ko"' in body


@pytest.mark.django_db
def test_room_page_in_korean_with_plural_forms(client, room, owner, member):
    make_invite(room, max_uses=3)
    client.force_login(owner)
    body = client.get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "통화 참여" in body
    assert "초대 링크 만들기" in body
    assert "3회 중 0회 사용" in body
    assert "지금 4명 중 0명 통화 중" in body
    dashboard = client.get(reverse("rooms:dashboard"), HTTP_ACCEPT_LANGUAGE="ko")
    assert "멤버 2명" in dashboard.content.decode()


@pytest.mark.django_db
def test_invite_error_page_in_korean(client, room):
    invite, token = make_invite(room)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(reverse("rooms:invite_open", args=[token]), HTTP_ACCEPT_LANGUAGE="ko")
    body = response.content.decode()
    assert response.status_code == 410
    assert "초대 링크가 만료되었습니다" in body
    assert "Minji 님에게 “Design review” 회의실의 새 링크를 요청하세요." in body


@pytest.mark.django_db
def test_allauth_pages_in_korean_with_our_invite_note(client, room):
    _invite, token = make_invite(room)
    client.get(reverse("rooms:invite_open", args=[token]))
    body = client.get(reverse("account_signup"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "회원가입" in body  # allauth's own Korean catalog
    assert "“Design review” 회의실에 참여하려면 로그인하거나 계정을 만드세요." in body
    assert "표시 이름" in body  # our signup field


@pytest.mark.django_db
def test_forbidden_page_explains_in_korean(client, room, stranger):
    client.force_login(stranger)
    response = client.get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 403
    assert "이 회의실의 멤버가 아닙니다. 호스트에게 초대 링크를 요청하세요." in (
        response.content.decode()
    )
