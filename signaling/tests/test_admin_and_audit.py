"""The rooms admin and audit trail meeting a real call: removing a member in
Django admin closes their socket; a kick made in the call is recorded."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from accounts.models import User
from rooms.models import AuditEvent, Membership

from .conftest import Opener, World, in_thread


def remove_in_admin(membership_pk: int) -> int:
    staff = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(staff)
    response = client.post(
        reverse("admin:rooms_membership_changelist"),
        {"action": "remove_members", "_selected_action": [membership_pk]},
    )
    return response.status_code


async def test_removing_a_member_in_the_admin_closes_their_call_socket(
    world: World, open_socket: Opener
):
    host = await open_socket(world.host, world.slug)
    await host.join()
    alex = await open_socket(world.alex, world.slug)
    await alex.join()
    await host.expect("peer-joined")
    membership = await in_thread(Membership.objects.get, room=world.room, user=world.alex.user)
    assert await in_thread(remove_in_admin, membership.pk) == 302
    assert await alex.closed() == 4403
    await host.expect("peer-left", peer=alex.peer, reason="removed")


async def test_a_kick_in_the_call_lands_in_the_audit_trail(world: World, open_socket: Opener):
    host = await open_socket(world.host, world.slug)
    await host.join()
    alex = await open_socket(world.alex, world.slug)
    await alex.join()
    await host.expect("peer-joined")
    await host.send({"type": "kick", "peer": alex.peer})
    assert await alex.closed() == 4000
    await host.expect("peer-left", peer=alex.peer, reason="kicked")
    # A ping's pong comes back only after the kick's handler has finished.
    await host.send({"type": "ping"})
    await host.expect("pong")

    def kicks() -> list[tuple[int | None, int | None]]:
        events = AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_KICKED)
        return list(events.values_list("actor_id", "target_id"))

    assert await in_thread(kicks) == [(world.host.pk, world.alex.pk)]
