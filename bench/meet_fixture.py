"""Users, rooms and signed-in sessions for the benchmarks (run by benchlib).

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=sqlite:///... \\
        python bench/meet_fixture.py pools.json fixture.json

``pools.json`` maps a pool name to ``[rooms, size]``. Each room gets ``size``
members (the first one its owner and host); every member is a user with a
real database session, made the way ``django.contrib.auth.login`` makes one,
so the WebSocket handshake authenticates exactly as a browser's would. The
output also names the session cookie.
"""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path

import django


def main() -> None:
    spec_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    pools: dict[str, list[int]] = json.loads(spec_path.read_text())
    django.setup()

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction

    from accounts.models import User
    from rooms.models import Membership, Room

    store = import_module(settings.SESSION_ENGINE).SessionStore
    backend = settings.AUTHENTICATION_BACKENDS[0]
    result: dict[str, list[dict]] = {}
    serial = User.objects.count()
    with transaction.atomic():
        for pool, (room_count, size) in pools.items():
            rooms = []
            for r in range(room_count):
                members = []
                users = []
                for m in range(size):
                    serial += 1
                    user = User(username=f"bench{serial}", display_name=f"{pool} {r}.{m}")
                    user.set_unusable_password()
                    user.save()
                    users.append(user)
                    session = store()
                    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
                    session[BACKEND_SESSION_KEY] = backend
                    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                    session.create()
                    members.append({"user": user.pk, "session": session.session_key})
                room = Room(owner=users[0], name=f"{pool} {r}", max_participants=4)
                room.save()
                Membership.objects.bulk_create(
                    Membership(
                        room=room,
                        user=user,
                        role=Membership.Role.HOST if i == 0 else Membership.Role.MEMBER,
                    )
                    for i, user in enumerate(users)
                )
                rooms.append({"slug": room.slug, "members": members})
            result[pool] = rooms
    out_path.write_text(json.dumps({"cookie": settings.SESSION_COOKIE_NAME, "pools": result}))


if __name__ == "__main__":
    main()
