"""The lobby: people who may join a room's call wait until a host admits them
(docs/protocol.md, "The lobby").

With ``Room.lobby_enabled`` on, a ``join`` from anyone who is not one of the
room's hosts (members and guests alike) takes no seat: the socket stays open
and **waits**. The lobby keeps no shared list; it lives in channel-layer
events of the room's group, so it works across server processes and costs no
database query or presence read per message:

- **A waiter announces itself** (``lobby.knock``, with its channel) when it
  starts waiting and again whenever a host takes (or resumes) a seat, so a
  host who joins later learns of everyone already waiting. Each host
  connection keeps its own map of the knocks (id -> channel), deduplicated
  by id.
- **Whoever stops waiting announces it** (``lobby.gone``): the waiter itself,
  when it is admitted, denied, or its socket closes, so every host's map
  loses it exactly when it should.
- **A knock is a lease.** A waiter knocks again every ``KNOCK_EVERY``
  seconds (its connection's tick), and a host's connection forgets a knock
  it has not heard for ``KNOCK_LEASE`` (telling its browser ``knock-gone``):
  a waiter whose server process died, and so could not say ``lobby.gone``,
  does not stay in the hosts' lists.
- **Hosts answer one waiter on its own channel** (``lobby.admit`` /
  ``lobby.deny``). Admitted, the waiter takes a seat through the normal
  ``presence.join`` (the seat cap holds as for any join: 4409 when full);
  denied, it closes with 4405. Two hosts answering at once: the first
  answer wins, the waiter ignores the rest.
- A waiter follows ``peer.joined`` / ``peer.left`` of its room's group (their
  entries say ``host``) to tell its browser whether a host is in the call.

Only the room's hosts (``JoinGrant.is_host``, confirmed against the database
for each ``admit``, ``deny`` and ``lobby``) see knocks and answer them; an
acting host does not (signaling/hosts.py): with no host in the call, people
wait and are told so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from rooms import services
from rooms.models import Room
from rooms.selectors import JoinGrant

# ``admit`` / ``deny`` with this id answer everyone waiting.
EVERYONE = "*"
# A waiter knocks again this often (seconds), and a host forgets a knock not
# heard for KNOCK_LEASE: more than two missed knocks, plus a tick either side.
KNOCK_EVERY = 30.0
KNOCK_LEASE = 75.0


def is_guest(user_id: int) -> bool:
    """Guests have no account: their participant id is negative (``-guest.pk``)."""
    return user_id < 0


def must_wait(grant: JoinGrant) -> bool:
    """Whether a ``join`` with this grant waits in the lobby."""
    return grant.lobby_enabled and not grant.is_host


@dataclass
class Waiter:
    """A socket waiting in the lobby: its future peer id, and the ``join`` it sent."""

    id: str
    name: str
    guest: bool
    fields: dict[str, Any]
    # Peer ids of the hosts in the call, as this waiter knows them.
    hosts: set[str] = field(default_factory=set)
    # When this waiter last knocked (time.monotonic()).
    knocked: float = 0.0

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "guest": self.guest}


@dataclass
class Knock:
    """A waiter as a host's connection knows it."""

    id: str
    name: str
    guest: bool
    channel: str
    # When the host's connection last heard this knock (time.monotonic()).
    heard: float = 0.0

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "guest": self.guest}


def waiting_frame(waiter: Waiter, *, heartbeat: float) -> dict[str, Any]:
    """``lobby``: you wait; ``host`` says whether a host is in the call to admit you."""
    return {
        "type": "lobby",
        "state": "waiting",
        "id": waiter.id,
        "name": waiter.name,
        "host": bool(waiter.hosts),
        "heartbeat": heartbeat,
    }


def knock_event(waiter: Waiter, channel: str) -> dict[str, Any]:
    return {"type": "lobby.knock", "knock": waiter.public(), "channel": channel}


def knock_from(event: dict[str, Any]) -> Knock:
    data = event["knock"]
    return Knock(
        id=str(data["id"]),
        name=str(data["name"]),
        guest=bool(data["guest"]),
        channel=str(event["channel"]),
        heard=time.monotonic(),
    )


def knock_frame(knock: Knock) -> dict[str, Any]:
    """``knock``, as a host gets it: one person waiting."""
    return {"type": "knock", **knock.public()}


def gone_event(waiter_id: str) -> dict[str, Any]:
    return {"type": "lobby.gone", "id": waiter_id}


def gone_frame(waiter_id: str) -> dict[str, Any]:
    """``knock-gone``: that person no longer waits (admitted, denied, or left)."""
    return {"type": "knock-gone", "id": waiter_id}


def answer_event(kind: str, waiter_id: str, by: str) -> dict[str, Any]:
    """``lobby.admit`` or ``lobby.deny``, for one waiter's channel."""
    return {"type": f"lobby.{kind}", "id": waiter_id, "by": by}


def state_frame(on: bool) -> dict[str, Any]:
    """``lobby-state``: the room's lobby is now on or off."""
    return {"type": "lobby-state", "on": on}


def set_lobby(*, room_id: int, user_id: int, on: bool) -> None:
    """Turn the lobby on or off through the service (audited; everyone in the
    call is told after commit). Raises ``PermissionDenied`` for non-hosts."""
    room = Room.objects.get(pk=room_id)
    services.room_set_lobby(room=room, by=User.objects.get(pk=user_id), on=on)
