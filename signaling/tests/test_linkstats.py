"""Link summaries for operators (docs/protocol.md, ``links``): each browser's
pairs, kept by the server for Django admin, never relayed, validated, rate
limited, and gone with the participant."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import User
from signaling import linkstats, presence
from signaling.presence import Entry
from signaling.protocol import ErrorCode, ProtocolError, parse_client_message

from .conftest import Opener, World, in_thread


def limits():
    from signaling.protocol import Limits

    return Limits.from_settings()


def link(peer: str, **fields) -> dict:
    return {"peer": peer, "path": "relay", "transport": "udp", "rtt": 35.2, "loss": 0.5, **fields}


def room_page(room_pk: int) -> str:
    staff = User.objects.filter(username="root").first() or User.objects.create_superuser(
        "root", "root@example.com", "pw"
    )
    client = Client()
    client.force_login(staff)
    response = client.get(reverse("admin:rooms_room_change", args=[room_pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- The frame ----------------------------------------------------------------------------


def test_a_summary_keeps_only_known_fields_and_values():
    text = '{"type": "links", "links": [{"peer": "p1", "path": "host", "transport": "tcp",'
    text += ' "rtt": 12, "loss": null, "name": "forged", "bytes": 9}]}'
    kind, fields, _ = parse_client_message(text, limits())
    assert kind == "links"
    assert fields == {
        "links": [{"peer": "p1", "path": "host", "transport": "tcp", "rtt": 12.0, "loss": None}]
    }


@pytest.mark.parametrize(
    "links",
    [
        None,
        "p1",
        [link(f"p{i}") for i in range(9)],
        ["p1"],
        [link("p1", path="carrier-pigeon")],
        [link("p1", transport="quic")],
        [link("p1", rtt=-1)],
        [link("p1", rtt=True)],
        [link("p1", loss=101)],
        [link("")],
        [{"path": "host"}],
    ],
)
def test_a_bad_summary_is_refused_as_invalid(links):
    import json

    with pytest.raises(ProtocolError) as refused:
        parse_client_message(json.dumps({"type": "links", "links": links}), limits())
    assert refused.value.code == ErrorCode.INVALID


# --- The consumer -------------------------------------------------------------------------


async def test_a_summary_reaches_the_admin_and_no_one_in_the_call(
    world: World, open_socket: Opener, settings
):
    host = await open_socket(world.host, world.slug)
    welcome = await host.join()
    assert welcome["report"] == settings.SIGNALING["LINK_REPORT"]
    alex = await open_socket(world.alex, world.slug)
    await alex.join()
    await host.expect("peer-joined")
    await host.send({"type": "links", "links": [link(alex.peer), link("gone-or-never-was")]})
    await alex.send({"type": "links", "links": [link(host.peer, path="host", rtt=3)]})
    assert await alex.nothing()
    assert await host.nothing()
    page = await in_thread(room_page, world.room.pk)
    # Names from presence; only pairs with people in the room.
    assert "relay / udp" in page
    assert "35 ms" in page
    assert "0.5 %" in page
    assert "host / udp" in page
    assert "gone-or-never-was" not in page
    assert page.count("<tr><td>") == 2


async def test_a_second_summary_too_soon_is_dropped_with_an_error(
    world: World, open_socket: Opener
):
    host = await open_socket(world.host, world.slug)
    await host.join()
    await host.send({"type": "links", "links": [], "ref": "a"})
    await host.send({"type": "links", "links": [], "ref": "b"})
    error = await host.expect("error", code="rate-limited", ref="b")
    assert "every" in error["message"]


async def test_leaving_takes_the_summary_away(world: World, open_socket: Opener):
    host = await open_socket(world.host, world.slug)
    await host.join()
    alex = await open_socket(world.alex, world.slug)
    await alex.join()
    await host.expect("peer-joined")
    await alex.send({"type": "links", "links": [link(host.peer)]})
    await host.send({"type": "links", "links": [link(alex.peer)]})
    assert await alex.nothing()
    key = linkstats.cache_key(world.room.pk, alex.peer)
    assert await cache.aget(key) is not None
    await alex.send({"type": "leave"})
    assert await alex.closed() == 1000
    await host.expect("peer-left", peer=alex.peer)
    assert await cache.aget(key) is None
    # And the host's line about Alex is no longer shown.
    page = await in_thread(room_page, world.room.pk)
    assert "No links reported in the call right now." in page


def test_the_admin_says_when_nobody_reported(world: World):
    assert "No links reported in the call right now." in room_page(world.room.pk)


# --- Presence's synchronous read -----------------------------------------------------------


def seat(room_id: int, peer: str, user: int, name: str) -> None:
    entry = Entry(peer=peer, user=user, channel=f"specific.x!{peer}", name=name, host=False)
    assert async_to_sync(presence.get_presence().join)(room_id, entry, 4, 30.0).admitted


def test_entries_in_process_in_join_order(settings):
    settings.REDIS_URL = ""
    presence._memory.clear()
    seat(5, "b", 2, "Bo")
    seat(5, "a", 1, "Ari")
    assert [e.name for e in presence.get_presence().entries_sync(5)] == ["Bo", "Ari"]
    assert presence.get_presence().entries_sync(6) == []
    presence._memory.clear()


@pytest.mark.redis
def test_entries_in_redis_in_join_order(settings, redis_url: str):
    settings.REDIS_URL = redis_url
    seat(7, "b", 2, "Bo")
    seat(7, "a", 1, "Ari")
    assert [e.name for e in presence.get_presence().entries_sync(7)] == ["Bo", "Ari"]
    assert presence.get_presence().entries_sync(8) == []
