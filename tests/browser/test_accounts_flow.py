"""The README's first steps in real Chromium: sign up, create a meeting,
create an invite link, and a second person joins through it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from rooms import services
from rooms.models import Invite

PASSWORD = "a-long-browser-password"


def sign_up(page: Page, username: str, display_name: str) -> None:
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=username]", username)
    page.fill("input[name=display_name]", display_name)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()


def test_sign_up_create_meeting_invite_and_second_person_joins(app_server, new_context):
    host = new_context(app_server)
    host.grant_permissions(["clipboard-read", "clipboard-write"])
    page = host.new_page()
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    sign_up(page, "minji", "Minji")
    expect(page).to_have_url(f"{app_server.url}/dashboard/")

    page.get_by_role("link", name="New meeting").click()
    page.fill("input[name=name]", "Design review")
    page.get_by_role("button", name="Create meeting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Design review")

    page.select_option("select[name=expires_in]", "7d")
    page.fill("input[name=max_uses]", "2")
    page.get_by_role("button", name="Create invite link").click()
    link = page.input_value("#new-invite-link")
    assert link.startswith(f"{app_server.url}/i/")
    copy = page.get_by_role("button", name="Copy")
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    expect(page.get_by_text("Used 0 of 2")).to_be_visible()

    guest = new_context(app_server).new_page()
    guest.goto(link)
    expect(
        guest.get_by_text("Sign in or create an account to join “Design review”.")
    ).to_be_visible()
    assert "/i/" not in guest.url
    sign_up(guest, "jun", "Jun")
    expect(guest.get_by_role("heading", level=1)).to_have_text(
        "Minji invited you to “Design review”"
    )
    guest.get_by_role("button", name="Join", exact=True).click()
    expect(guest.get_by_role("heading", level=1)).to_have_text("Design review")
    expect(guest.get_by_text("Welcome to “Design review”.")).to_be_visible()
    expect(guest.locator(".member__name", has_text="Minji")).to_be_visible()

    page.reload()
    expect(page.locator(".member__name", has_text="Jun")).to_be_visible()
    expect(page.get_by_text("Used 1 of 2")).to_be_visible()
    assert page.locator("#new-invite-link").count() == 0
    assert host.errors == []  # type: ignore[attr-defined]
    assert guest.context.errors == []  # type: ignore[attr-defined]


PAGES = ["landing", "dashboard", "room", "invite-expired", "signup"]


@pytest.mark.parametrize("locale", ["en-US", "ko-KR"])
@pytest.mark.parametrize("width", [375, 1280])
def test_main_pages_fit_phones_and_desktops(
    app_server, new_context, artifacts_dir: Path, locale: str, width: int
):
    owner = User.objects.create_user("minji", password=PASSWORD, display_name="김민지")
    member = User.objects.create_user("jun", password=PASSWORD, display_name="Jun Park")
    room = services.room_create(owner=owner, name="주간 디자인 리뷰 Weekly design review")
    _invite, token = services.invite_create(room=room, created_by=owner, max_uses=5)
    services.invite_accept(token=token, user=member)
    expired, expired_token = services.invite_create(
        room=room, created_by=owner, expires_in=timedelta(hours=1)
    )
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    viewport = {"width": width, "height": 800}
    signed_in = new_context(app_server, owner, locale=locale, viewport=viewport).new_page()
    anonymous = new_context(app_server, locale=locale, viewport=viewport).new_page()
    urls = {
        "landing": (anonymous, "/"),
        "dashboard": (signed_in, "/dashboard/"),
        "room": (signed_in, room.get_absolute_url()),
        "invite-expired": (anonymous, f"/i/{expired_token}/"),
        "signup": (anonymous, "/accounts/signup/"),
    }
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    language = locale[:2]
    for name in PAGES:
        page, url = urls[name]
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.screenshot(path=shots / f"{name}-{language}-{width}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    assert signed_in.context.errors == []  # type: ignore[attr-defined]
    # The expired link's page is served with 410 Gone, which Chromium logs.
    errors = anonymous.context.errors  # type: ignore[attr-defined]
    assert [error for error in errors if "status of 410" not in error] == []
