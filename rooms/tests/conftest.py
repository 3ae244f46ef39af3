"""Factories (plain functions) and fixtures for the rooms tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache

from accounts.models import User
from rooms import services
from rooms.models import Invite, Membership, Room

PASSWORD = "a-long-test-password"


def make_user(username: str, **fields: Any) -> User:
    fields.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(username=username, password=PASSWORD, **fields)


def make_room(owner: User, name: str = "Weekly sync", **fields: Any) -> Room:
    return services.room_create(owner=owner, name=name, **fields)


def add_member(room: Room, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    return Membership.objects.create(room=room, user=user, role=role)


def make_invite(
    room: Room,
    created_by: User | None = None,
    *,
    expires_in: timedelta | None = None,
    max_uses: int | None = None,
) -> tuple[Invite, str]:
    return services.invite_create(
        room=room,
        created_by=created_by or room.owner,
        expires_in=expires_in,
        max_uses=max_uses,
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """allauth's rate limits live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(db) -> User:
    return make_user("minji", display_name="Minji")


@pytest.fixture
def member(db) -> User:
    return make_user("jun", display_name="Jun")


@pytest.fixture
def stranger(db) -> User:
    return make_user("sora")


@pytest.fixture
def room(owner: User, member: User) -> Room:
    room = make_room(owner, "Design review")
    add_member(room, member)
    return room


@pytest.fixture
def live_events(monkeypatch) -> list[tuple[str, dict]]:
    """Calls the services make to ``signaling.events`` (after commit)."""
    from signaling import events

    calls: list[tuple[str, dict]] = []
    for name in ("room_ended", "member_removed", "guests_removed", "lobby_changed"):
        monkeypatch.setattr(
            events, name, lambda _name=name, **kwargs: calls.append((_name, kwargs))
        )
    return calls
