"""The call consumer: one WebSocket per participant, speaking docs/protocol.md.

The consumer is glue. Validation lives in ``protocol``, seats in ``presence``,
database reads and writes in ``access`` (reads on its reader threads, writes
through ``database_sync_to_async``), ICE servers in ``turn``; how a socket
lives in the process (its task, inbox and sends) in ``connection``, the
periodic work of every socket in ``sweeper``.

Three rules keep it correct with several server processes and people who
vanish:

- **Whoever removes a presence entry announces it.** Removal is atomic, so
  every departure (leave, close, timeout, kick, replacement) reaches the
  others exactly once as ``peer-left``.
- **The relay path touches neither the database nor presence.** Each
  connection keeps its own map of the room (peer id -> channel), filled from
  the ``join`` snapshot and kept current by ``peer.joined``/``peer.left``
  group events. Every sender's messages reach each peer in order, direct and
  group ones alike (``connection``), so a newcomer's ``peer.joined`` always
  reaches a peer before that newcomer's offer (the browser relies on it and
  drops frames from peers it was not told about). A relay is one validation,
  one dict lookup and a frame serialized once: handed straight to the addressee
  when it lives in this process, else one channel-layer send. Under daphne a
  ``ping``, or a relay for a peer in this process, that arrives while the
  connection is idle is handled as it arrives (``receive_now``), without
  waking the connection's task.
- **One thing at a time per connection.** Handlers that wait (join, leave,
  the periodic tick and re-check of the process's sweep) run under the
  connection's lock, and whatever arrives meanwhile waits its turn
  (``connection.Connection``), so no handler ever races another.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from django.conf import settings
from django.core.exceptions import PermissionDenied

from rooms.models import SLUG_LENGTH
from rooms.selectors import JoinGrant, JoinRefused

from . import access, hosts, linkstats, lobby, resume
from .connection import Connection
from .events import session_fingerprint
from .groups import room_group, user_group
from .presence import Entry, Presence, Refreshed, get_presence
from .protocol import (
    PRE_JOIN_TYPES,
    RELAYED_TYPES,
    ClientMessage,
    CloseCode,
    ErrorCode,
    LeaveReason,
    Limits,
    ProtocolError,
    encode,
    error_frame,
    frame_too_large,
    parse_client_message,
    relay_frame,
)
from .ratelimit import TokenBucket
from .resume import ResumeRefused
from .sockets import get_counts
from .sweeper import get_sweeper
from .turn import ice_config

logger = logging.getLogger(__name__)

PONG = encode({"type": "pong"})
# What browsers send (JSON.stringify({type: "ping"})): a valid ping, seen
# without parsing it.
PING = encode({"type": "ping"})
# No ping is longer (`{"type": "ping", "ref": "…"}` with a short ref); a
# longer frame is left to the usual path without being parsed twice.
PING_SIZE = 64

# How long the access check made when the socket opened still holds for `join`
# (seconds, from the check's start): a lock within this window is as if it
# came just after the join. Shorter than presence.CHANGED_FOR, which is how
# an end or a removal that the check may have missed is noticed.
JOIN_CHECK_FRESH_FOR = 2.0

# The close code for a connection whose seat someone else took away.
EVICTION_CODES = {
    LeaveReason.KICKED: CloseCode.KICKED,
    LeaveReason.REPLACED: CloseCode.REPLACED,
    LeaveReason.TIMEOUT: CloseCode.TIMEOUT,
}


def lost_socket(code: int) -> bool:
    """Whether a close code says the connection was lost rather than closed
    on purpose: not a normal close (1000), not "going away" (1001, a page
    that navigated away) and not one of the server's own 4xxx codes."""
    return code not in (CloseCode.LEFT, 1001) and code < 4000


class CallConsumer(Connection):
    """Signaling for one participant of one room's call."""

    # Per-socket state in slots, not in a dict per socket (connection.Connection).
    __slots__ = (
        "acting",
        "bucket",
        "checked_at",
        "closing",
        "counted",
        "entry",
        "fingerprint",
        "grant",
        "invalid_strikes",
        "joined",
        "knocks",
        "last_seen",
        "limits",
        "links_at",
        "missing",
        "next_recheck",
        "opened",
        "peer_id",
        "peers",
        "presence",
        "rate_strikes",
        "reported",
        "room_groups",
        "session_key",
        "slug",
        "swept",
        "token_issued",
        "user",
        "waiting",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closing = False
        self.joined = False
        self.peer_id = ""
        # Our own seat as we took it (and our media state since): what
        # signaling.recovery puts back should Redis lose it.
        self.entry: Entry | None = None
        # The others in the call: peer id -> entry (with its channel name).
        self.peers: dict[str, Entry] = {}
        self.grant: JoinGrant | None = None
        self.room_groups: list[str] = []
        self.swept = False
        # The place this socket holds in the process's socket counts, if any.
        self.counted: tuple[int, int] | None = None
        self.invalid_strikes = 0
        self.rate_strikes = 0
        # Set when a refresh found our entry gone: the eviction event that
        # explains it is normally right behind; if not, we close on the next tick.
        self.missing = False
        # When the resume token this socket last sent was issued (time.time()).
        self.token_issued = 0.0
        # The acting host as our browser was last told (signaling.hosts).
        self.acting: str | None = None
        # When this socket's last link summary was taken (time.monotonic()).
        self.links_at = -math.inf
        self.reported = False
        # Lobby (signaling/lobby.py): our wait, or as a host, who knocks.
        self.waiting: lobby.Waiter | None = None
        self.knocks: dict[str, lobby.Knock] = {}

    # --- Connection lifecycle --------------------------------------------------

    async def connect(self) -> None:
        """Accept, then refuse with a 4xxx code if this user may not be here:
        browsers see a refused handshake only as 1006, without a reason."""
        await self.accept()
        self.limits = Limits.from_settings()
        self.max_queue = self.limits.max_queue
        self.presence: Presence = get_presence()
        self.opened = self.last_seen = time.monotonic()
        self.bucket = TokenBucket(self.limits.rate, self.limits.burst)
        self.slug = str(self.scope["url_route"]["kwargs"]["slug"])
        try:
            await self.admit()
        except Exception:
            logger.exception("signaling: connect failed room=%s", self.slug)
            await self.refuse(CloseCode.SERVER_ERROR, "server error")

    async def admit(self) -> None:
        session_key = self.scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
        if not session_key:
            await self.refuse(CloseCode.NOT_SIGNED_IN, "not signed in")
            return
        self.session_key: str = session_key
        self.fingerprint = session_fingerprint(session_key)
        try:
            # An over-long code cannot be a room: refused without a room query,
            # but only after the session (not signed in comes first).
            slug = self.slug if len(self.slug) <= SLUG_LENGTH else None
            started = time.monotonic()
            self.user, grant = await access.read(access.admit, session_key=session_key, slug=slug)
            self.grant = grant
            self.checked_at = started
        except access.NotSignedIn:
            await self.refuse(CloseCode.NOT_SIGNED_IN, "not signed in")
            return
        except JoinRefused as refused:
            await self.refuse(access.REFUSAL_CODES[refused.reason], refused.reason)
            return
        if not get_counts().claim(
            self.user.pk,
            grant.room_id,
            per_room=self.limits.max_sockets_per_room,
            per_user=self.limits.max_sockets_per_user,
        ):
            await self.refuse(CloseCode.TOO_MANY_SOCKETS, "too many sockets")
            return
        self.counted = (self.user.pk, grant.room_id)
        self.room_groups = [room_group(grant.room_id), user_group(self.user.pk)]
        for group in self.room_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.next_recheck = self.opened + self.limits.recheck_interval
        self.swept = True
        get_sweeper().add(self)

    async def refuse(self, code: CloseCode, why: str) -> None:
        user = getattr(self, "user", None)
        logger.info(
            "signaling refused room=%s user=%s code=%d reason=%s",
            self.slug,
            getattr(user, "pk", None),
            code,
            why,
        )
        self.closing = True
        await self.close(code)

    async def disconnect(self, code: int) -> None:
        """The socket is gone: closed by the browser, lost, or closed by us.
        A seat still ours is held for ``RESUME_GRACE`` when the socket was
        lost (the browser may come back with its resume token); a socket
        closed on purpose (1000, 1001, or one of our own 4xxx codes, e.g. a
        frame too large), or any socket when resuming is off, gives it up at
        once, announced as ``left``."""
        if self.swept:
            get_sweeper().discard(self)
        self.closing = True
        await self.stop_waiting()
        if self.joined:
            self.joined = False
            try:
                if not lost_socket(code) or self.limits.resume_grace <= 0:
                    entry = await self.presence.leave(self.room_id, self.peer_id)
                    await self.forget_links()
                    if entry is not None:
                        # 4408: the transport gave up on a client that stopped reading.
                        timeout = code == CloseCode.TIMEOUT
                        reason = LeaveReason.TIMEOUT if timeout else LeaveReason.LEFT
                        await self.announce_left([entry], reason)
                else:
                    await self.hold_seat()
            except Exception:
                logger.exception("signaling: leaving presence failed peer=%s", self.peer_id)
        for group in self.room_groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.exception("signaling: group_discard %s failed", group)

    async def finish(self) -> None:
        """However the socket ends (closed, lost, or cancelled with the
        server), its place in the socket counts is given back."""
        if self.counted is not None:
            get_counts().release(*self.counted)
            self.counted = None
        await super().finish()

    async def depart(
        self, code: CloseCode, reason: LeaveReason | None, why: str, *, hold: bool = False
    ) -> None:
        """Close this connection. If it holds a seat, give it up and, given a
        ``reason``, announce it (no reason: the meeting ended, or someone else
        already removed and announced the seat). With ``hold`` (the client
        may just have lost its network), the seat is held for resuming
        instead, as for a lost socket."""
        if self.closing:
            return
        self.closing = True
        await self.stop_waiting()
        if self.joined:
            self.joined = False
            try:
                if hold and self.limits.resume_grace > 0:
                    await self.hold_seat()
                else:
                    entry = await self.presence.leave(self.room_id, self.peer_id)
                    await self.forget_links()
                    if entry is not None and reason is not None:
                        await self.announce_left([entry], reason)
            except Exception:
                logger.exception("signaling: leaving presence failed peer=%s", self.peer_id)
        logger.info(
            "signaling closed room=%s peer=%s user=%s code=%d reason=%s",
            self.grant.room_id if self.grant else self.slug,
            self.peer_id or "-",
            self.user.pk,
            code,
            why,
        )
        await self.close(code)

    async def forget_links(self) -> None:
        """Our seat is given up: our link summary goes with it (signaling/linkstats.py)."""
        if self.reported:
            self.reported = False
            await linkstats.forget(self.room_id, self.peer_id)

    async def hold_seat(self) -> None:
        held = await self.presence.hold(
            self.room_id, self.peer_id, self.channel_name, self.limits.resume_grace
        )
        logger.info(
            "signaling held room=%s peer=%s user=%s held=%s",
            self.room_id,
            self.peer_id,
            self.user.pk,
            held,
        )

    @property
    def token_lifetime(self) -> float:
        return resume.lifetime(self.limits.resume_grace, self.limits.heartbeat_interval)

    @property
    def seat_ttl(self) -> float:
        """How long a seat outlives its last refresh: a server process that dies
        leaves its seats for their browsers to resume elsewhere."""
        return self.limits.presence_ttl + self.limits.resume_grace

    @property
    def room_id(self) -> int:
        assert self.grant is not None  # noqa: S101  (only called after connect admitted us)
        return self.grant.room_id

    # --- Client frames ---------------------------------------------------------------

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        """Channels' (the frame to ``receive``), with the parse ``receive_now``
        made of it, if any: a frame is validated once."""
        text = message.get("text")
        if text is None:
            await self.receive(bytes_data=message.get("bytes"))
            return
        await self.receive(text, parsed=message.get("parsed"))

    async def receive(
        self,
        text_data: str | None = None,
        bytes_data: bytes | None = None,
        *,
        parsed: ClientMessage | None = None,
    ) -> None:
        """Size check, rate limit, validation, then one handler per type.
        ``parsed``: the frame as ``receive_now`` checked and parsed it."""
        if self.closing:
            return
        now = self.last_seen = time.monotonic()
        if text_data is None:
            await self.depart(CloseCode.PROTOCOL, LeaveReason.LEFT, "binary frame")
            return
        if parsed is None and frame_too_large(text_data, self.limits):
            await self.depart(CloseCode.TOO_LARGE, LeaveReason.LEFT, "frame too large")
            return
        allowed = self.bucket.take(now)
        if parsed is None:
            try:
                parsed = parse_client_message(text_data, self.limits)
            except ProtocolError as exc:
                if allowed:
                    await self.reject(exc)
                else:
                    await self.rate_limited(exc.ref)
                return
        if not allowed:
            await self.rate_limited(parsed.ref)
            return
        try:
            await self.handle(parsed)
        except Exception:
            logger.exception("signaling: %s failed peer=%s", parsed.type, self.peer_id or "-")
            await self.send_error(ErrorCode.SERVER_ERROR, "The server failed.", parsed.ref)

    def receive_now(self, message: dict[str, Any]) -> bool:
        """The fast path (signaling.connection): a frame handled as it
        arrives, exactly as ``receive`` and ``handle`` would (the same size
        check, rate limit, validation and frames), without waking this
        connection's task, when it is a ``ping`` (on an idle call nearly the
        only message there is) or a relay to a peer whose socket is in this
        process. Anything else is left to ``receive``, with the parse made
        here kept in ``message``; a frame no longer than a ping that is not
        one is parsed again there."""
        text = message.get("text")
        if (
            text is None
            or self.closing
            or not self.idle
            or message["type"] != "websocket.receive"
            or not hasattr(self, "bucket")  # not admitted yet
        ):
            return False
        if len(text) <= PING_SIZE:
            return self.ping_now(text)
        if self.joined and self.receivers is not None:
            return self.relay_now(message, text)
        return False

    def ping_now(self, text: str) -> bool:
        if text != PING:
            try:
                parsed = parse_client_message(text, self.limits)
            except ProtocolError:
                return False
            if parsed.type != "ping":
                return False
        now = time.monotonic()
        if not self.bucket.take(now):
            return False
        self.last_seen = now
        self.transmit(PONG)
        return True

    def relay_now(self, message: dict[str, Any], text: str) -> bool:
        """``relay``, for an offer, answer or candidate: handed at once to
        its addressee's socket when it is in this process, or to the
        layer's ``send_soon`` for a socket in another (the Redis pub/sub
        layer), without waiting for Redis. A frame that is not one (or is
        for a peer we do not know, or over the rate limit) goes on to
        ``receive`` with its parse; one that does not parse is parsed again
        there, to be refused."""
        if frame_too_large(text, self.limits):
            return False
        try:
            parsed = parse_client_message(text, self.limits)
        except ProtocolError:
            return False
        kind, fields, ref = parsed
        target = self.peers.get(fields["to"]) if kind in RELAYED_TYPES else None
        deliver = self.local_receiver(target)
        now = time.monotonic()
        if (
            target is None
            or (deliver is None and self.send_soon is None)
            or not self.bucket.take(now)
        ):
            message["parsed"] = parsed
            return False
        self.last_seen = now
        event = self.signal_event(kind, fields)
        if deliver is not None:
            deliver(event)
        else:
            assert self.send_soon is not None  # noqa: S101  (checked above)
            self.send_soon(target.channel, event, functools.partial(self.relay_failed, kind, ref))
        return True

    def relay_failed(self, kind: str, ref: str | None, exc: BaseException) -> None:
        """A relay sent with ``send_soon`` did not reach Redis: dropped, and
        the sender told so, as ``receive`` tells of a handler that failed."""
        logger.error("signaling: %s failed peer=%s: %r", kind, self.peer_id or "-", exc)
        if not self.closing:
            self.transmit(error_frame(ErrorCode.SERVER_ERROR, "The server failed.", ref))

    def local_receiver(self, target: Entry | None) -> Callable[[dict[str, Any]], None] | None:
        """What hands an event to ``target``'s socket when it is in this
        process (signaling.inbox), else None."""
        if target is None or self.receivers is None:
            return None
        return self.receivers.get(target.channel)

    def signal_event(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """An offer, answer or candidate for its addressee, stamped with our peer id."""
        return {
            "type": "peer.signal",
            "from": self.peer_id,
            "text": relay_frame(kind, self.peer_id, fields),
        }

    async def handle(self, message: ClientMessage) -> None:
        kind, fields, ref = message
        if not self.joined and kind not in PRE_JOIN_TYPES:
            await self.send_error(ErrorCode.NOT_JOINED, "Send join first.", ref)
            return
        match kind:
            case "offer" | "answer" | "candidate":
                await self.relay(kind, fields, ref)
            case "ping":
                await self.send(PONG)
            case "join":
                await self.on_join(fields, ref)
            case "state":
                await self.on_state(fields)
            case "ice-servers":
                await self.send(encode({"type": "ice-servers", "ice": ice_config(self.user.pk)}))
            case "kick":
                await self.on_kick(fields["peer"], ref)
            case "mute":
                await self.on_mute(fields["peer"], ref)
            case "end":
                await self.on_end(ref)
            case "leave":
                await self.depart(CloseCode.LEFT, LeaveReason.LEFT, "leave")
            case "links":
                await self.on_links(fields, ref)
            case "lobby":
                await self.on_lobby(fields["on"], ref)
            case "admit" | "deny":
                await self.on_answer(kind, fields["id"], ref)

    async def relay(self, kind: str, fields: dict[str, Any], ref: str | None) -> None:
        """The hot path: addressed to one peer, stamped with our own peer id."""
        target = self.peers.get(fields["to"])
        if target is None:
            await self.send_error(
                ErrorCode.UNKNOWN_PEER, f"No peer {fields['to']} in this room.", ref
            )
            return
        event = self.signal_event(kind, fields)
        local = self.local_receiver(target)
        if local is not None:
            local(event)  # the addressee is in this process: no channel-layer hop
            return
        try:
            await self.channel_layer.send(target.channel, event)
        except ChannelFull:
            # The target is not draining its channel; it is about to time out.
            logger.warning("signaling: channel full, dropped %s to peer=%s", kind, target.peer)

    async def on_join(self, fields: dict[str, Any], ref: str | None) -> None:
        """Take a seat (atomically, across processes) and send ``welcome``."""
        if self.joined:
            await self.send_error(ErrorCode.ALREADY_JOINED, "Already joined.", ref)
            return
        if self.waiting is not None:
            await self.send_error(ErrorCode.ALREADY_JOINED, "Already waiting in the lobby.", ref)
            return
        # A socket opened a while ago (during the pre-join screen) checks again:
        # the room may have been locked since, or our role changed; ending the
        # room or removing us would have closed the socket already. A socket
        # that opened just now reuses its check (join storms pay one, not two),
        # unless the room's access changed lately or our user logged out
        # somewhere: an end, a removal or a logout broadcast while our check
        # ran reached the room's or the user's group before we were in it
        # (signaling.events.note_access_change).
        assert self.grant is not None  # noqa: S101  (admitted sockets always have one)
        fresh = time.monotonic() - self.checked_at <= JOIN_CHECK_FRESH_FOR
        changed = (
            await self.presence.access_changed_lately(
                room_id=self.grant.room_id, user_id=self.user.pk if self.user.pk > 0 else None
            )
            if fresh
            else frozenset()
        )
        # After a logout of our user, our session is read again too.
        if (not fresh or changed) and not await self.check_again(session="user" in changed):
            return
        grant = self.grant
        if fields["resume"] is not None:
            # A resume token proves the seat was ours: no lobby again.
            await self.resume_seat(grant, fields)
            return
        if lobby.must_wait(grant):
            await self.wait_in_lobby(grant, fields)
            return
        await self.take_seat(grant, fields, secrets.token_urlsafe(9))

    async def check_again(self, *, session: bool = False) -> bool:
        """The access checks once more (``access.join_check``, with ``session``
        ``access.session_join_check``): whether we may go on with the grant
        renewed, or we left with the refusal's code."""
        started = time.monotonic()
        try:
            if session:
                self.grant = await access.read(
                    access.session_join_check,
                    session_key=self.session_key,
                    slug=self.slug,
                    user=self.user,
                )
            else:
                self.grant = await access.read(access.join_check, slug=self.slug, user=self.user)
        except access.NotSignedIn:
            await self.depart(CloseCode.NOT_SIGNED_IN, None, "logged out")
            return False
        except JoinRefused as refused:
            await self.depart(access.REFUSAL_CODES[refused.reason], None, refused.reason)
            return False
        except access.GuestRemoved:
            await self.depart(CloseCode.GUEST_REMOVED, None, "guest removed")
            return False
        self.checked_at = started
        return True

    async def take_seat(self, grant: JoinGrant, fields: dict[str, Any], peer: str) -> None:
        """A fresh seat, through ``presence.join`` (the seat cap holds atomically)."""
        entry = Entry(
            peer=peer,
            user=self.user.pk,
            channel=self.channel_name,
            # A guest is always shown under the name they joined with.
            name=grant.display_name if grant.is_guest else fields["name"] or grant.display_name,
            host=grant.is_host,
            state=fields["state"],
        )
        result = await self.presence.join(
            grant.room_id, entry, grant.max_participants, self.seat_ttl
        )
        await self.announce_left(result.reaped, LeaveReason.TIMEOUT)
        if not result.admitted:
            await self.depart(CloseCode.FULL, None, "room full")
            return
        await self.announce_left(result.replaced, LeaveReason.REPLACED)
        # Our place in the join order, as the others will see it.
        entry = dataclasses.replace(entry, seq=result.seq)
        self.peer_id = entry.peer
        self.entry = entry
        self.joined = True
        self.peers = {peer.peer: peer for peer in result.peers}
        self.acting = self.acting_host()
        logger.info(
            "signaling joined room=%s peer=%s user=%s peers=%d",
            grant.room_id,
            entry.peer,
            self.user.pk,
            len(result.peers),
        )
        # Announce before welcoming: our offers must reach the others after this.
        await self.channel_layer.group_send(
            room_group(grant.room_id), {"type": "peer.joined", "entry": entry.to_dict()}
        )
        await self.send(self.welcome_frame(entry, result.peers, resumed=False))

    # --- The lobby (signaling/lobby.py) -----------------------------------------------

    async def wait_in_lobby(self, grant: JoinGrant, fields: dict[str, Any]) -> None:
        """Wait instead of taking a seat: tell our browser, knock on the room."""
        seated = await self.presence.entries(grant.room_id)
        self.waiting = lobby.Waiter(
            id=secrets.token_urlsafe(9),
            name=grant.display_name if grant.is_guest else fields["name"] or grant.display_name,
            guest=lobby.is_guest(self.user.pk),
            fields=fields,
            hosts={entry.peer for entry in seated if entry.host},
        )
        logger.info(
            "signaling waiting room=%s id=%s user=%s hosts=%d",
            grant.room_id,
            self.waiting.id,
            self.user.pk,
            len(self.waiting.hosts),
        )
        await self.send(
            encode(lobby.waiting_frame(self.waiting, heartbeat=self.limits.heartbeat_interval))
        )
        await self.knock()

    async def knock(self) -> None:
        if self.waiting is not None and not self.closing:
            self.waiting.knocked = time.monotonic()
            await self.channel_layer.group_send(
                room_group(self.room_id), lobby.knock_event(self.waiting, self.channel_name)
            )

    async def stop_waiting(self) -> lobby.Waiter | None:
        """We no longer wait (admitted, denied, closed): the hosts are told."""
        waiter, self.waiting = self.waiting, None
        if waiter is not None:
            try:
                await self.channel_layer.group_send(
                    room_group(self.room_id), lobby.gone_event(waiter.id)
                )
            except Exception:
                logger.exception("signaling: lobby.gone failed id=%s", waiter.id)
        return waiter

    async def lobby_rights(self, ref: str | None, what: str) -> bool:
        """Only the room's hosts answer the lobby (not an acting host),
        confirmed against the database; anyone else costs no query."""
        if self.is_host and await access.read(
            access.is_host, room_id=self.room_id, user_id=self.user.pk
        ):
            return True
        await self.send_error(ErrorCode.FORBIDDEN, f"Only hosts can {what}.", ref)
        return False

    async def on_lobby(self, on: bool, ref: str | None) -> None:
        """A host turns the lobby on or off; everyone hears ``lobby-state``."""
        if not await self.lobby_rights(ref, "turn the lobby on or off"):
            return
        try:
            await database_sync_to_async(lobby.set_lobby)(
                room_id=self.room_id, user_id=self.user.pk, on=on
            )
        except PermissionDenied:
            await self.send_error(ErrorCode.FORBIDDEN, "Only hosts can change the lobby.", ref)
            return
        logger.info(
            "signaling lobby room=%s on=%s by peer=%s user=%s",
            self.room_id,
            on,
            self.peer_id,
            self.user.pk,
        )

    async def on_answer(self, kind: str, target: str, ref: str | None) -> None:
        """``admit`` or ``deny`` one waiting person, or everyone (``"*"``)."""
        if not await self.lobby_rights(ref, f"{kind} people waiting in the lobby"):
            return
        if target == lobby.EVERYONE:
            knocks = list(self.knocks.values())
        elif target in self.knocks:
            knocks = [self.knocks[target]]
        else:
            await self.send_error(
                ErrorCode.UNKNOWN_PEER, f"Nobody with id {target} waits in the lobby.", ref
            )
            return
        for knock in knocks:
            try:
                await self.channel_layer.send(
                    knock.channel, lobby.answer_event(kind, knock.id, self.peer_id)
                )
            except ChannelFull:
                logger.warning("signaling: channel full, dropped %s to id=%s", kind, knock.id)
        logger.info(
            "signaling %s room=%s ids=%s by peer=%s user=%s",
            kind,
            self.room_id,
            ",".join(knock.id for knock in knocks) or "-",
            self.peer_id,
            self.user.pk,
        )

    def lobby_knock(self, event: dict[str, Any]) -> None:
        """Someone waits (or re-announces): hosts in the call hear it once."""
        if not (self.joined and self.is_host):
            return
        knock = lobby.knock_from(event)
        known = self.knocks.get(knock.id)
        if known is not None:
            known.heard = knock.heard  # the lease goes on
            return
        self.knocks[knock.id] = knock
        self.transmit(encode(lobby.knock_frame(knock)))

    def forget_old_knocks(self, now: float) -> None:
        """Knocks not heard for ``KNOCK_LEASE``: their waiter is gone without
        a word (its server process died)."""
        for knock in [k for k in self.knocks.values() if now - k.heard >= lobby.KNOCK_LEASE]:
            del self.knocks[knock.id]
            self.transmit(encode(lobby.gone_frame(knock.id)))

    def lobby_gone(self, event: dict[str, Any]) -> None:
        if self.knocks.pop(str(event["id"]), None) is not None:
            self.transmit(encode(lobby.gone_frame(str(event["id"]))))

    async def lobby_admit(self, event: dict[str, Any]) -> None:
        """A host let us in: take a seat, with the id the hosts knew us by."""
        if self.closing or self.waiting is None or event["id"] != self.waiting.id:
            return
        await self.seat_waiter()

    async def seat_waiter(self) -> None:
        """Admitted (or the lobby was turned off): the access checks run again
        (the room may have been locked or ended while we waited), then we
        take a seat under the id the hosts knew us by."""
        waiter = await self.stop_waiting()
        if waiter is None:
            return
        if not await self.check_again():
            return
        assert self.grant is not None  # noqa: S101  (check_again set it)
        logger.info("signaling admitted room=%s id=%s", self.room_id, waiter.id)
        await self.take_seat(self.grant, waiter.fields, waiter.id)

    async def lobby_deny(self, event: dict[str, Any]) -> None:
        if self.closing or self.waiting is None or event["id"] != self.waiting.id:
            return
        await self.depart(CloseCode.DENIED, None, "denied in the lobby")

    async def lobby_state(self, event: dict[str, Any]) -> None:
        """The lobby was turned on or off. Turned off, whoever waits is seated."""
        on = bool(event["on"])
        if self.grant is not None:
            self.grant = dataclasses.replace(self.grant, lobby_enabled=on)
        if self.joined:
            await self.send(encode(lobby.state_frame(on)))
        elif self.waiting is not None and not on and not self.closing:
            await self.seat_waiter()

    def lobby_follow(self, seat: dict[str, Any] | None, left: str | None = None) -> None:
        """A waiter follows the room's hosts: told when the first arrives or
        the last leaves, and knocks again for every host that takes a seat."""
        waiter = self.waiting
        if waiter is None:
            return
        had = bool(waiter.hosts)
        entry = Entry.from_dict(seat) if seat is not None else None
        if entry is not None and entry.host:
            waiter.hosts.add(entry.peer)
            self.post(self.knock)
        elif left is not None:
            waiter.hosts.discard(left)
        if had != bool(waiter.hosts):
            frame = lobby.waiting_frame(waiter, heartbeat=self.limits.heartbeat_interval)
            self.transmit(encode(frame))

    async def resume_seat(self, grant: JoinGrant, fields: dict[str, Any]) -> None:
        """``join`` with a resume token: take over our seat, same peer id. A
        token that is not ours, not this room's or expired, or a seat no
        longer held, is refused with 4412 and changes nothing."""
        try:
            peer = resume.verify(
                fields["resume"],
                room_id=grant.room_id,
                user_id=self.user.pk,
                max_age=self.token_lifetime if self.limits.resume_grace > 0 else 0,
            )
        except ResumeRefused as refused:
            await self.depart(CloseCode.RESUME_REFUSED, None, f"resume refused: {refused}")
            return
        result, reaped = await self.presence.resume(
            grant.room_id, peer, self.user.pk, self.channel_name, fields["state"], self.seat_ttl
        )
        await self.announce_left([e for e in reaped if e.peer != peer], LeaveReason.TIMEOUT)
        if result is None:
            # Expired (and announced by whoever reaped it), or replaced.
            await self.depart(CloseCode.RESUME_REFUSED, None, "resume refused: seat gone")
            return
        self.peer_id = peer
        self.entry = result.entry
        self.joined = True
        self.peers = {p.peer: p for p in result.peers}
        self.acting = self.acting_host()
        logger.info(
            "signaling resumed room=%s peer=%s user=%s peers=%d",
            grant.room_id,
            peer,
            self.user.pk,
            len(result.peers),
        )
        # Before the welcome, as for a join: our offers must find our new channel.
        # A socket of ours still open (half-open) sees this and closes.
        await self.channel_layer.group_send(
            room_group(grant.room_id), {"type": "peer.resumed", "entry": result.entry.to_dict()}
        )
        await self.send(self.welcome_frame(result.entry, result.peers, resumed=True))

    def welcome_frame(self, entry: Entry, peers: list[Entry], *, resumed: bool) -> str:
        """``welcome``: a fresh seat offers to everyone already there; a resumed
        one to nobody (its pairs go on; the others re-offer what was lost)."""
        grant = self.grant
        assert grant is not None  # noqa: S101  (only after a join)
        self.token_issued = time.time()
        return encode(
            {
                "type": "welcome",
                "peer": entry.peer,
                "name": entry.name,
                "host": grant.is_host,
                "guest": grant.is_guest,
                "acting": self.acting,
                "room": {
                    "code": self.slug,
                    "name": grant.room_name,
                    "max": grant.max_participants,
                    "locked": grant.is_locked,
                    "lobby": grant.lobby_enabled,
                },
                "peers": [self.describe(peer, offer=not resumed) for peer in peers],
                "ice": ice_config(self.user.pk),
                "heartbeat": self.limits.heartbeat_interval,
                "report": self.limits.link_report,
                "resume": self.resume_token(),
                "resumed": resumed,
            }
        )

    def resume_token(self) -> str:
        return resume.issue(
            room_id=self.room_id, user_id=self.user.pk, peer=self.peer_id, now=self.token_issued
        )

    def describe(self, peer: Entry, *, offer: bool) -> dict[str, Any]:
        """A peer as this connection sees it, with the negotiation roles decided
        here so two browsers can never disagree: the newcomer offers, the
        smaller peer id is polite."""
        return {**peer.public(), "offer": offer, "polite": self.peer_id < peer.peer}

    async def on_state(self, fields: dict[str, Any]) -> None:
        state = await self.presence.set_state(self.room_id, self.peer_id, fields["state"])
        if state is None:
            return  # our seat is gone; the eviction that took it closes us
        if self.entry is not None:
            self.entry = self.entry.with_state(state)
        await self.channel_layer.group_send(
            room_group(self.room_id), {"type": "peer.state", "peer": self.peer_id, "state": state}
        )

    async def on_links(self, fields: dict[str, Any], ref: str | None) -> None:
        """A link summary for operators (signaling/linkstats.py): kept, never relayed."""
        now = time.monotonic()
        every = self.limits.link_report
        if now - self.links_at < every / 2:
            await self.send_error(
                ErrorCode.RATE_LIMITED,
                f"One link summary every {every:g} s; dropped.",
                ref,
            )
            return
        self.links_at = now
        if self.entry is not None:
            self.reported = True
            await linkstats.store(
                self.room_id, self.entry, fields["links"], self.peers, keep=3 * every
            )

    @property
    def is_host(self) -> bool:
        """Host rights as of the last check (join, or the periodic re-check)."""
        return self.grant is not None and self.grant.is_host

    def acting_host(self) -> str | None:
        """The acting host of the room as this connection knows it (its own
        seat and its map of the others, both copies of presence entries)."""
        seats = list(self.peers.values())
        if self.entry is not None:
            seats.append(self.entry)
        return hosts.acting_host(seats)

    def follow_acting(self) -> None:
        """The room changed: tell our browser when the acting host did."""
        acting = self.acting_host()
        if acting != self.acting:
            self.acting = acting
            self.transmit(encode(hosts.acting_host_frame(acting)))

    async def host_rights(self) -> bool:
        """Whether this connection may do what a host may in the call. Hosts
        are confirmed against the database, the acting host against presence
        itself (every process reaches the same answer from it); anyone else
        is refused without a query, so a flood of host-only frames costs
        nothing."""
        if self.is_host:
            return await access.read(access.is_host, room_id=self.room_id, user_id=self.user.pk)
        if self.acting != self.peer_id:
            return False
        return hosts.acting_host(await self.presence.entries(self.room_id)) == self.peer_id

    async def on_kick(self, target: str, ref: str | None) -> None:
        if not await self.host_rights():
            await self.send_error(ErrorCode.FORBIDDEN, "Only hosts can kick.", ref)
            return
        entry = await self.presence.leave(self.room_id, target) if target in self.peers else None
        if entry is None:
            await self.send_error(ErrorCode.UNKNOWN_PEER, f"No peer {target} in this room.", ref)
            return
        logger.info(
            "signaling kick room=%s peer=%s user=%s by peer=%s user=%s",
            self.room_id,
            entry.peer,
            entry.user,
            self.peer_id,
            self.user.pk,
        )
        # The kicked connection closes itself (4000) when it sees this.
        await self.announce_left([entry], LeaveReason.KICKED)
        await database_sync_to_async(access.record_kick)(
            room_id=self.room_id, user_id=self.user.pk, target_user_id=entry.user
        )

    async def on_mute(self, target: str | None, ref: str | None) -> None:
        """Ask one peer (``target``), or everyone else (``None``), to mute. Only
        their own browser mutes them; nothing here changes their state."""
        if not await self.host_rights():
            await self.send_error(ErrorCode.FORBIDDEN, "Only hosts can ask people to mute.", ref)
            return
        event = {
            "type": "host.mute",
            "from": self.peer_id,
            "text": encode(hosts.mute_request_frame(self.peer_id)),
        }
        if target is None:
            await self.channel_layer.group_send(room_group(self.room_id), event)
        else:
            peer = self.peers.get(target)
            if peer is None:
                await self.send_error(
                    ErrorCode.UNKNOWN_PEER, f"No peer {target} in this room.", ref
                )
                return
            try:
                await self.channel_layer.send(peer.channel, event)
            except ChannelFull:
                logger.warning("signaling: channel full, dropped mute to peer=%s", peer.peer)
        logger.info(
            "signaling mute room=%s peer=%s by peer=%s user=%s",
            self.room_id,
            target or "*",
            self.peer_id,
            self.user.pk,
        )

    async def on_end(self, ref: str | None) -> None:
        if not self.is_host:
            why = "Only hosts can end the meeting"
            if self.acting == self.peer_id:
                why += " (an acting host cannot)"
            await self.send_error(ErrorCode.FORBIDDEN, f"{why}.", ref)
            return
        try:
            await database_sync_to_async(access.end_room)(
                room_id=self.room_id, user_id=self.user.pk
            )
        except PermissionDenied:
            await self.send_error(ErrorCode.FORBIDDEN, "Only hosts can end the meeting.", ref)
            return
        logger.info(
            "signaling end room=%s by peer=%s user=%s", self.room_id, self.peer_id, self.user.pk
        )
        # rooms.services sends room.ended to every process, this one included.

    async def reject(self, exc: ProtocolError) -> None:
        self.invalid_strikes += 1
        await self.send_error(exc.code, exc.message, exc.ref)
        if self.invalid_strikes >= self.limits.invalid_strikes:
            await self.depart(CloseCode.PROTOCOL, LeaveReason.LEFT, "too many invalid frames")

    async def rate_limited(self, ref: str | None) -> None:
        self.rate_strikes += 1
        await self.send_error(ErrorCode.RATE_LIMITED, "Too many messages; dropped.", ref)
        if self.rate_strikes >= self.limits.rate_strikes:
            await self.depart(CloseCode.FLOOD, LeaveReason.LEFT, "flooding")

    async def send_error(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        await self.send(error_frame(code, message, ref))

    async def announce_left(self, entries: list[Entry], reason: LeaveReason) -> None:
        """Tell the room about seats this connection removed (and only those)."""
        for entry in entries:
            await self.announce(entry.peer, entry.user, reason)

    async def announce(self, peer: str, user_id: int, reason: LeaveReason) -> None:
        logger.info(
            "signaling left room=%s peer=%s user=%s reason=%s", self.room_id, peer, user_id, reason
        )
        await self.channel_layer.group_send(
            room_group(self.room_id), {"type": "peer.left", "peer": peer, "reason": str(reason)}
        )

    # --- Channel-layer events ----------------------------------------------------------
    # Plain functions run at once in the sender's task when this connection is
    # idle (``Connection.deliver``): they change only this connection's state
    # and write a frame. Coroutines wait their turn under the lock.

    def peer_signal(self, event: dict[str, Any]) -> None:
        """An offer, answer or candidate for us, already serialized by its sender."""
        if self.joined and event["from"] in self.peers:
            self.transmit(event["text"])

    def peer_joined(self, event: dict[str, Any]) -> None:
        """Someone took a seat. Each newcomer is announced to us once: it may
        also be in our join snapshot, and the map decides. ``offer`` set: a
        peer whose seat came back after a data loss (signaling.recovery) and
        whom we never met; we make the offer, as a newcomer does."""
        if not self.joined:
            self.lobby_follow(event.get("entry"))
            return
        entry = Entry.from_dict(event["entry"])
        if entry.peer == self.peer_id or entry.peer in self.peers:
            return
        self.peers[entry.peer] = entry
        offer = bool(event.get("offer", False))
        self.transmit(encode({"type": "peer-joined", "peer": self.describe(entry, offer=offer)}))
        self.follow_acting()

    def peer_left(self, event: dict[str, Any]) -> None:
        """Someone's seat was removed (by whoever removed it)."""
        if not self.joined:
            self.lobby_follow(None, left=event["peer"])
            return
        peer, reason = event["peer"], event["reason"]
        if peer == self.peer_id:
            # Someone else took our seat (kick, newer tab, expiry) and announced it.
            self.joined = False
            code = EVICTION_CODES.get(reason, CloseCode.TIMEOUT)
            self.post(functools.partial(self.depart, code, None, reason))
            return
        if self.peers.pop(peer, None) is not None:
            self.transmit(encode({"type": "peer-left", "peer": peer, "reason": reason}))
            self.follow_acting()

    def peer_resumed(self, event: dict[str, Any]) -> None:
        """A seat was taken over by a new socket: same peer id, new channel."""
        if not self.joined:
            self.lobby_follow(event.get("entry"))
            return
        entry = Entry.from_dict(event["entry"])
        if entry.peer == self.peer_id:
            if entry.channel != self.channel_name:
                # We are the old socket of a resumed seat (half-open): the seat
                # is no longer ours to give up or announce.
                self.joined = False
                self.post(functools.partial(self.depart, CloseCode.REPLACED, None, "resumed"))
            return
        known = entry.peer in self.peers
        self.peers[entry.peer] = entry
        if known:
            self.transmit(
                encode({"type": "peer-resumed", "peer": entry.peer, "state": entry.state})
            )
        else:
            self.transmit(
                encode({"type": "peer-joined", "peer": self.describe(entry, offer=False)})
            )
            self.follow_acting()

    def host_mute(self, event: dict[str, Any]) -> None:
        """A host asked us (or everyone) to mute; the browser does it."""
        sender = event["from"]
        if self.joined and sender != self.peer_id and sender in self.peers:
            self.transmit(event["text"])

    def peer_state(self, event: dict[str, Any]) -> None:
        """Someone's media state changed; ``state`` is their whole state."""
        peer = self.peers.get(event["peer"])
        if not self.joined or peer is None:
            return
        self.peers[peer.peer] = peer.with_state(event["state"])
        self.transmit(encode({"type": "peer-state", "peer": peer.peer, "state": event["state"]}))

    async def room_ended(self, event: dict[str, Any]) -> None:
        """A host or an admin ended the meeting: everyone closes, nobody is announced."""
        await self.depart(CloseCode.ENDED, None, "meeting ended")

    async def member_removed(self, event: dict[str, Any]) -> None:
        """A membership of this room was removed; close if it was ours."""
        if event["user"] == self.user.pk:
            await self.depart(CloseCode.NOT_MEMBER, LeaveReason.REMOVED, "membership removed")

    async def guests_removed(self, event: dict[str, Any]) -> None:
        """Guests lost their access (invite revoked); close if we are one of them."""
        if self.user.pk < 0 and self.user.pk in event["participants"]:
            await self.depart(CloseCode.GUEST_REMOVED, LeaveReason.REMOVED, "guest removed")

    async def session_ended(self, event: dict[str, Any]) -> None:
        """A session of our user logged out; close if it was the one this socket used."""
        if event["session"] == self.fingerprint:
            await self.depart(CloseCode.NOT_SIGNED_IN, LeaveReason.REMOVED, "logged out")

    # --- The process's sweep (signaling.sweeper) -----------------------------------------

    async def too_slow(self) -> None:
        """More than ``MAX_QUEUE`` bytes wait for this socket (its browser is not
        reading): closed like a heartbeat timeout, so the browser, should it
        come back, reconnects; but the seat is given up at once (announced as
        ``timeout``), not held: a lost network goes quiet and ends in a
        heartbeat timeout long before a megabyte of signaling piles up."""
        await self.depart(CloseCode.TIMEOUT, LeaveReason.TIMEOUT, "could not keep up")

    def refresh_due(self, now: float) -> bool:
        """Whether a tick now would refresh this socket's seat (the sweep
        refreshes all of those in one call to presence)."""
        alive = now - self.last_seen < self.limits.heartbeat_timeout
        return self.joined and not self.closing and alive

    async def tick(self, refreshed: Refreshed | None = None) -> None:
        """Every ``TICK``: heartbeat timeout, presence refresh and reaping;
        the lobby's leases (a waiter knocks again, a host forgets old knocks).
        ``refreshed``: the seat's refresh, when the sweep made it already."""
        if self.closing:
            return
        now = time.monotonic()
        timeout = self.limits.heartbeat_timeout
        if now - self.last_seen >= timeout:
            if not self.joined:
                await self.depart(CloseCode.TIMEOUT, None, "silent before join")
                return
            await self.depart(
                CloseCode.TIMEOUT, LeaveReason.TIMEOUT, "heartbeat timeout", hold=True
            )
            return
        if not self.joined:
            if self.waiting is not None and now - self.waiting.knocked >= lobby.KNOCK_EVERY:
                await self.knock()
            return
        if self.knocks:
            self.forget_old_knocks(now)
        if refreshed is not None and refreshed.peer == self.peer_id:
            if refreshed.result is None:
                return  # presence unreachable; the sweep logged it once for all
            present, reaped = refreshed.result
        else:
            present, reaped = await self.presence.refresh(self.room_id, self.peer_id, self.seat_ttl)
        # If our own entry is among the reaped, the announcement closes us too.
        await self.announce_left(reaped, LeaveReason.TIMEOUT)
        if present:
            self.missing = False
            grace = self.limits.resume_grace
            every = resume.refresh_interval(grace, self.limits.heartbeat_interval)
            if grace > 0 and time.time() - self.token_issued >= every:
                self.token_issued = time.time()
                self.transmit(encode({"type": "resume-token", "token": self.resume_token()}))
        elif self.missing:
            # Gone for a whole tick and nobody said why (Redis lost its data?):
            # say it ourselves. Should the eviction event merely be late, the
            # others see the departure once anyway: each forwards a peer-left
            # only for a peer still in its map.
            self.joined = False
            await self.announce(self.peer_id, self.user.pk, LeaveReason.TIMEOUT)
            await self.depart(CloseCode.TIMEOUT, None, "presence entry lost")
        else:
            self.missing = True

    async def apply_recheck(self, code: CloseCode | None, is_host: bool) -> None:
        """The outcome of the periodic re-check (``RECHECK_INTERVAL``)."""
        if self.closing:
            return
        if code is not None:
            reason = None if code == CloseCode.ENDED else LeaveReason.REMOVED
            await self.depart(code, reason, "re-check")
            return
        if self.grant is not None:
            self.grant = dataclasses.replace(self.grant, is_host=is_host)
        # Re-adding is cheap, and keeps the core Redis layer's group_expiry
        # from ever dropping us, however long the meeting.
        for group in self.room_groups:
            await self.channel_layer.group_add(group, self.channel_name)
