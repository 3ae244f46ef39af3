"""Putting rooms back together after Redis lost its data.

A Redis that restarts empty (nothing kept on disk) forgets every seat and,
on the core channel layer, every group membership; the sockets are all still
there. The process's sweep notices (``Presence.epoch`` changed, see
signaling/sweeper.py) and, under each live connection's lock:

1. ``reassert``: the connection joins its groups again and puts its seat
   back as it was (same peer id, name, host flag and media state), so the
   room page's count is right again within one ``TICK``. Someone who joined
   while the seat was missing was not told about this peer in its
   ``welcome``: the connection tells every peer directly, with a
   ``peer.joined`` that asks the receiver to make the offer (a peer that
   already knows it ignores it), and tells its own browser about anyone in
   the room it had not heard of (they offer). The pair then negotiates as it
   would have at a join. Nobody is closed.
2. ``reconcile``: two ticks later, when every process has had its sweep, a
   peer still in a connection's map but without a seat left while Redis was
   away (its departure could not be written or announced): its browser is
   told ``peer-left`` ``timeout``.

A failover to a replica keeps the data (and the epoch), so nothing here runs;
presence's "time stands still" rule (signaling/presence.py) keeps anyone from
being reaped for the seconds the failover took.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from .protocol import CloseCode, LeaveReason, encode

if TYPE_CHECKING:
    from .consumers import CallConsumer

logger = logging.getLogger(__name__)


async def reassert(connection: CallConsumer) -> None:
    """Put back this connection's seat (and groups) after a data loss."""
    if connection.closing or not connection.joined or connection.entry is None:
        return
    for group in connection.room_groups:
        await connection.channel_layer.group_add(group, connection.channel_name)
    entry = dataclasses.replace(connection.entry, host=connection.is_host)
    result = await connection.presence.reassert(connection.room_id, entry, connection.seat_ttl)
    await connection.announce_left(result.reaped, LeaveReason.TIMEOUT)
    if result.status == "replaced":
        # The same account took a seat again meanwhile (a newer tab): newest wins.
        connection.joined = False
        await connection.announce(connection.peer_id, connection.user.pk, LeaveReason.REPLACED)
        await connection.depart(CloseCode.REPLACED, None, "replaced while presence was lost")
        return
    connection.missing = False
    if result.status == "present":
        return
    logger.info(
        "signaling re-asserted room=%s peer=%s user=%s peers=%d",
        connection.room_id,
        connection.peer_id,
        connection.user.pk,
        len(result.peers),
    )
    for peer in result.peers:
        if peer.peer not in connection.peers:
            connection.peers[peer.peer] = peer
            connection.transmit(
                encode({"type": "peer-joined", "peer": connection.describe(peer, offer=False)})
            )
    connection.follow_acting()
    event = {"type": "peer.joined", "entry": entry.to_dict(), "offer": True}
    for peer in list(connection.peers.values()):
        local = connection.receivers.get(peer.channel) if connection.receivers else None
        try:
            if local is not None:
                local(event)
            else:
                await connection.channel_layer.send(peer.channel, event)
        except Exception:
            logger.warning("signaling: could not re-introduce peer=%s to %s", entry.peer, peer.peer)


async def reconcile(connection: CallConsumer) -> None:
    """Forget peers whose seats did not come back (they left while Redis was away)."""
    if connection.closing or not connection.joined:
        return
    seated = await connection.presence.peer_ids(connection.room_id)
    for peer in [peer for peer in connection.peers if peer not in seated]:
        del connection.peers[peer]
        logger.info(
            "signaling: peer=%s did not come back after presence was lost (room=%s)",
            peer,
            connection.room_id,
        )
        connection.transmit(
            encode({"type": "peer-left", "peer": peer, "reason": str(LeaveReason.TIMEOUT)})
        )
    connection.follow_acting()
