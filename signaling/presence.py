"""Who is in which room's call, under which peer id, on which channel.

Two backends with one interface:

- ``MemoryPresence`` keeps it in this process (development, one process).
  Its methods never await inside a critical section, so each call is atomic
  under asyncio.
- ``RedisPresence`` keeps it in Redis, visible to every server process. Each
  operation is one Lua script, so it is atomic across processes, and the
  scripts read the clock with Redis ``TIME``, so the servers' own clocks
  never matter.

Every entry carries an expiry that its connection pushes forward every
``TICK``. Nothing expires on its own: the next ``join`` or ``refresh`` in
the room removes expired entries and returns them, and the caller announces
them (``peer-left`` ``timeout``). Whoever removes an entry announces it, and
removal is atomic, which is how every departure is announced exactly once.

A seat whose socket is lost is not removed but *held* (``hold``: its expiry
becomes now + the resume grace) until a new socket of the same user takes it
over with the seat's resume token (``resume``: same peer id, new channel), or
it expires and is reaped like any other.

Redis keys, per room (``{id}`` is a hash tag, so a room's keys share a slot):
``<prefix>:{<room id>}:peers`` (hash: peer id -> entry JSON) and
``<prefix>:{<room id>}:expiry`` (sorted set: peer id -> expiry in ms) and
``<prefix>:{<room id>}:seen`` (when the room was last refreshed). These carry a
PEXPIRE of twice the entry TTL and at least a minute, so an empty or
abandoned room leaves nothing behind, and a room outlives a Redis that was
unreachable for up to a minute. ``<prefix>:{<room id>}:changed`` is there
for ``CHANGED_FOR`` seconds after the room's access changed, and
``<prefix>:user:<user id>:changed`` after one of the user's sessions logged
out (``note_access_change_sync``).

Surviving Redis trouble (docs/deployment.md):

- **Time stands still while nobody could refresh.** When a room's last
  refresh is more than half a TTL old (every connection refreshes every
  ``TICK``, so only an outage or a failover does that), the next refresh or
  join first moves every expiry forward by the gap: nobody is reaped for
  the time Redis was unreachable.
- **Data loss is noticed.** ``<prefix>:epoch`` is a random value written
  once; a Redis that restarted empty (or any loss of everything) has none,
  and the next ``epoch()`` writes a new one. Each process's sweep compares it
  with the one it saw before and, when it changed, has every live
  connection ``reassert`` its seat (signaling/recovery.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import redis
import redis.asyncio as aioredis
from django.conf import settings

from meet import redisconf

# How long a change to a room's access (ended, deleted, someone removed) is
# remembered for the sockets being admitted at that moment: longer than a
# socket reuses its admission check for its join
# (signaling.consumers.JOIN_CHECK_FRESH_FOR, counted from the check's start).
CHANGED_FOR = 10.0
# What changed lately: a room's access, or a user's sessions (a logout).
Changed = Literal["room", "user"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One connection's seat in a room's call."""

    peer: str
    user: int
    channel: str
    name: str
    host: bool
    state: dict[str, bool] = field(default_factory=dict)
    # Join order within the room, assigned by the backend.
    seq: int = 0

    def public(self) -> dict[str, Any]:
        """What other members see (never the channel name or the user id).
        ``guest``: a guest's participant id is negative (rooms/guests.py)."""
        return {
            "peer": self.peer,
            "name": self.name,
            "host": self.host,
            "guest": self.user < 0,
            "state": self.state,
        }

    def with_state(self, state: dict[str, bool]) -> Entry:
        return replace(self, state=dict(state))

    def to_dict(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "user": self.user,
            "channel": self.channel,
            "name": self.name,
            "host": self.host,
            "state": self.state,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        return cls(
            peer=str(data["peer"]),
            user=int(data["user"]),
            channel=str(data["channel"]),
            name=str(data["name"]),
            host=bool(data["host"]),
            state={key: bool(value) for key, value in data["state"].items()},
            seq=int(data["seq"]),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Entry:
        return cls.from_dict(json.loads(text))


class JoinResult(NamedTuple):
    """``admitted`` is False when the room was full. ``peers``: the others in the
    room, in join order. ``reaped``: expired entries removed on the way (announce
    them as ``timeout``). ``replaced``: this user's earlier entries (announce
    them as ``replaced``). ``seq``: the join order the new entry was given
    (0 when refused)."""

    admitted: bool
    peers: list[Entry]
    reaped: list[Entry]
    replaced: list[Entry]
    seq: int = 0


class Reasserted(NamedTuple):
    """``status``: ``"restored"`` (the seat was missing and is back), ``"present"``
    (it was there, now refreshed) or ``"replaced"`` (the user holds another
    seat; nothing was written). ``peers``: the others in the room. ``reaped``:
    expired entries removed on the way (announce them as ``timeout``)."""

    status: str
    peers: list[Entry]
    reaped: list[Entry]


class ResumeResult(NamedTuple):
    """A seat taken over by a new socket (``resume``): the entry as it is now,
    the channel it had before, the others in the room (join order), and the
    expired entries reaped on the way (announce them as ``timeout``)."""

    entry: Entry
    old_channel: str
    peers: list[Entry]
    reaped: list[Entry]


class Presence(ABC):
    """The interface both backends implement. ``ttl`` is in seconds."""

    @abstractmethod
    async def join(self, room_id: int, entry: Entry, capacity: int, ttl: float) -> JoinResult:
        """Atomically: reap expired entries, drop this user's earlier entries
        ("newest wins"; they do not count against the cap), refuse if
        ``capacity`` others are in, else insert ``entry``."""

    @abstractmethod
    async def leave(self, room_id: int, peer: str) -> Entry | None:
        """Remove a peer; the entry if this call removed it, else ``None``."""

    @abstractmethod
    async def hold(self, room_id: int, peer: str, channel: str, grace: float) -> bool:
        """The socket on ``channel`` is gone: keep the peer's seat for ``grace``
        seconds (its expiry becomes now + grace), unless the seat is no longer
        that socket's (already resumed elsewhere). Whether it was held."""

    @abstractmethod
    async def resume(
        self, room_id: int, peer: str, user: int, channel: str, state: dict[str, bool], ttl: float
    ) -> tuple[ResumeResult | None, list[Entry]]:
        """Atomically: reap expired entries, then give ``peer``'s seat (if it is
        still there and ``user``'s) to ``channel`` with ``state``, pushing its
        expiry to now + ttl. Returns (the result or ``None``, reaped entries)."""

    @abstractmethod
    async def refresh(self, room_id: int, peer: str, ttl: float) -> tuple[bool, list[Entry]]:
        """Reap expired entries, then push this peer's expiry forward.
        Returns (still present, reaped entries)."""

    @abstractmethod
    async def refresh_many(
        self, refreshes: Sequence[tuple[int, str, float]]
    ) -> list[tuple[bool, list[Entry]]]:
        """``refresh`` for each (room id, peer, ttl), in order, at once (the
        sweep's, for every connection of a process: one round trip)."""

    @abstractmethod
    async def set_state(
        self, room_id: int, peer: str, changes: dict[str, bool]
    ) -> dict[str, bool] | None:
        """Merge ``changes`` into a peer's state; the whole new state, or ``None``
        if the peer is not present."""

    @abstractmethod
    async def count(self, room_ids: Iterable[int]) -> dict[int, int]:
        """Unexpired entries per room id; rooms with nobody are omitted."""

    @abstractmethod
    def count_sync(self, room_ids: Iterable[int]) -> dict[int, int]:
        """``count`` for synchronous code (the admin and room pages)."""

    @abstractmethod
    async def entries(self, room_id: int) -> list[Entry]:
        """The room's unexpired entries, in join order (``seq``, then peer id)."""

    @abstractmethod
    def entries_sync(self, room_id: int) -> list[Entry]:
        """``entries`` for synchronous code (the admin's live view, the room
        page)."""

    @abstractmethod
    async def epoch(self) -> str:
        """A value that changes only when presence lost everything (a Redis
        restarted empty); the first call after such a loss sets a new one."""

    @abstractmethod
    async def reassert(self, room_id: int, entry: Entry, ttl: float) -> Reasserted:
        """Put back a live connection's seat that a data loss took, as it was
        (no capacity check: the seat was held), or refresh it if it is there.
        Refused when the same user holds another seat (it is newer and wins)."""

    @abstractmethod
    async def peer_ids(self, room_id: int) -> set[str]:
        """The peer ids with an entry in the room (expired or not)."""

    @abstractmethod
    def note_access_change_sync(
        self, *, room_id: int | None = None, user_id: int | None = None
    ) -> None:
        """A room's access just changed (it ended, was deleted, someone was
        removed), or a user's session just logged out, and the sockets
        concerned are being told (signaling.events). A socket whose admission
        check ran while this happened joined the room's or the user's group
        too late to hear it: ``access_changed_lately`` tells it to check again.
        Remembered for ``CHANGED_FOR`` seconds."""

    @abstractmethod
    async def access_changed_lately(
        self, *, room_id: int, user_id: int | None
    ) -> frozenset[Changed]:
        """What ``note_access_change_sync`` was called for within the last
        ``CHANGED_FOR`` seconds: the room, the user (None: a guest, who has
        no sessions), both or neither."""

    async def aclose(self) -> None:  # noqa: B027  (optional hook: memory holds no connections)
        """Release connections bound to the running event loop."""


# --- In-process backend ------------------------------------------------------------


class MemoryPresence(Presence):
    """Presence for a single process. Atomic because nothing here awaits."""

    def __init__(self) -> None:
        # room id -> peer id -> (entry, expiry on the monotonic clock); dicts keep
        # insertion order, which is join order.
        self._rooms: dict[int, dict[str, tuple[Entry, float]]] = {}
        self._seq = 0
        # ("room" or "user", id) -> until when (monotonic) its last access
        # change is remembered.
        self._changed: dict[tuple[Changed, int], float] = {}

    def _reap(self, room: dict[str, tuple[Entry, float]], now: float) -> list[Entry]:
        dead = [peer for peer, (_, expires) in room.items() if expires <= now]
        return [room.pop(peer)[0] for peer in dead]

    def _drop_if_empty(self, room_id: int) -> None:
        if not self._rooms.get(room_id):
            self._rooms.pop(room_id, None)

    async def join(self, room_id: int, entry: Entry, capacity: int, ttl: float) -> JoinResult:
        now = time.monotonic()
        room = self._rooms.setdefault(room_id, {})
        reaped = self._reap(room, now)
        mine = [
            peer for peer, (e, _) in room.items() if e.user == entry.user and peer != entry.peer
        ]
        others = [e for e, _ in room.values() if e.user != entry.user]
        if len(others) >= capacity:
            self._drop_if_empty(room_id)
            return JoinResult(False, others, reaped, [])
        replaced = [room.pop(peer)[0] for peer in mine]
        self._seq += 1
        room[entry.peer] = (replace(entry, seq=self._seq), now + ttl)
        return JoinResult(True, others, reaped, replaced, self._seq)

    async def leave(self, room_id: int, peer: str) -> Entry | None:
        room = self._rooms.get(room_id)
        if room is None or peer not in room:
            return None
        entry = room.pop(peer)[0]
        self._drop_if_empty(room_id)
        return entry

    async def hold(self, room_id: int, peer: str, channel: str, grace: float) -> bool:
        slot = self._rooms.get(room_id, {}).get(peer)
        if slot is None or slot[0].channel != channel:
            return False
        self._rooms[room_id][peer] = (slot[0], time.monotonic() + grace)
        return True

    async def resume(
        self, room_id: int, peer: str, user: int, channel: str, state: dict[str, bool], ttl: float
    ) -> tuple[ResumeResult | None, list[Entry]]:
        now = time.monotonic()
        room = self._rooms.get(room_id)
        if room is None:
            return None, []
        reaped = self._reap(room, now)
        slot = room.get(peer)
        if slot is None or slot[0].user != user:
            self._drop_if_empty(room_id)
            return None, reaped
        old = slot[0]
        entry = replace(old, channel=channel, state=dict(state))
        room[peer] = (entry, now + ttl)
        others = [e for e, _ in room.values() if e.peer != peer]
        return ResumeResult(entry, old.channel, others, reaped), reaped

    async def refresh(self, room_id: int, peer: str, ttl: float) -> tuple[bool, list[Entry]]:
        return self._refresh(room_id, peer, ttl, time.monotonic())

    async def refresh_many(
        self, refreshes: Sequence[tuple[int, str, float]]
    ) -> list[tuple[bool, list[Entry]]]:
        now = time.monotonic()
        return [self._refresh(room_id, peer, ttl, now) for room_id, peer, ttl in refreshes]

    def _refresh(self, room_id: int, peer: str, ttl: float, now: float) -> tuple[bool, list[Entry]]:
        room = self._rooms.get(room_id)
        if room is None:
            return False, []
        reaped = self._reap(room, now)
        present = peer in room
        if present:
            room[peer] = (room[peer][0], now + ttl)
        self._drop_if_empty(room_id)
        return present, reaped

    async def set_state(
        self, room_id: int, peer: str, changes: dict[str, bool]
    ) -> dict[str, bool] | None:
        slot = self._rooms.get(room_id, {}).get(peer)
        if slot is None:
            return None
        entry, expires = slot
        state = {**entry.state, **changes}
        self._rooms[room_id][peer] = (replace(entry, state=state), expires)
        return state

    async def count(self, room_ids: Iterable[int]) -> dict[int, int]:
        return self.count_sync(room_ids)

    def count_sync(self, room_ids: Iterable[int]) -> dict[int, int]:
        now = time.monotonic()
        counts = {}
        for room_id in room_ids:
            # list() copies in one step, so a page rendered in a worker thread
            # never iterates a dict the event loop is changing.
            live = sum(
                1 for _, expires in list(self._rooms.get(room_id, {}).values()) if expires > now
            )
            if live:
                counts[room_id] = live
        return counts

    async def entries(self, room_id: int) -> list[Entry]:
        return self.entries_sync(room_id)

    def entries_sync(self, room_id: int) -> list[Entry]:
        now = time.monotonic()
        # One copying step, as in count_sync: the event loop may be changing it.
        slots = list(self._rooms.get(room_id, {}).values())
        return sorted((entry for entry, expires in slots if expires > now), key=_join_order)

    async def epoch(self) -> str:
        return "memory"  # this process's memory is never lost while it runs

    async def reassert(self, room_id: int, entry: Entry, ttl: float) -> Reasserted:
        now = time.monotonic()
        room = self._rooms.setdefault(room_id, {})
        reaped = self._reap(room, now)
        others = [e for e, _ in room.values() if e.peer != entry.peer]
        if any(e.user == entry.user for e in others):
            self._drop_if_empty(room_id)
            return Reasserted("replaced", others, reaped)
        present = entry.peer in room
        if present:
            room[entry.peer] = (room[entry.peer][0], now + ttl)
        elif entry.seq:
            # Back in its old place: the join order decides who is acting host.
            room[entry.peer] = (entry, now + ttl)
        else:
            self._seq += 1
            room[entry.peer] = (replace(entry, seq=self._seq), now + ttl)
        return Reasserted("present" if present else "restored", others, reaped)

    async def peer_ids(self, room_id: int) -> set[str]:
        return set(self._rooms.get(room_id, {}))

    def note_access_change_sync(
        self, *, room_id: int | None = None, user_id: int | None = None
    ) -> None:
        now = time.monotonic()
        # Called from views' threads too: one dict assignment each, and
        # whatever expired is dropped from a copy of the keys.
        for stale in [key for key, until in list(self._changed.items()) if until <= now]:
            self._changed.pop(stale, None)
        if room_id is not None:
            self._changed[("room", room_id)] = now + CHANGED_FOR
        if user_id is not None:
            self._changed[("user", user_id)] = now + CHANGED_FOR

    async def access_changed_lately(
        self, *, room_id: int, user_id: int | None
    ) -> frozenset[Changed]:
        now = time.monotonic()
        keys: list[tuple[Changed, int]] = [("room", room_id)]
        if user_id is not None:
            keys.append(("user", user_id))
        return frozenset(key[0] for key in keys if self._changed.get(key, -math.inf) > now)

    def clear(self) -> None:
        """Forget everything (tests)."""
        self._rooms.clear()
        self._changed.clear()


# --- Redis backend -----------------------------------------------------------------

_LUA_COMMON = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function reap(peers, expiry, now)
  local gone = {}
  for _, peer in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', now)) do
    local entry = redis.call('HGET', peers, peer)
    if entry then
      gone[#gone + 1] = entry
      redis.call('HDEL', peers, peer)
    end
    redis.call('ZREM', expiry, peer)
  end
  return gone
end
-- How long a room's keys outlive its last refresh: twice the entry TTL, and
-- at least a minute, so a room survives Redis being unreachable that long.
local function lifetime(ttl)
  return math.max(2 * ttl, 60000)
end
-- Extend (never shorten) the room's keys to outlive its entries.
local function keep(peers, expiry, ttl)
  for _, key in ipairs({peers, expiry}) do
    if redis.call('PTTL', key) < lifetime(ttl) then redis.call('PEXPIRE', key, lifetime(ttl)) end
  end
end
-- Nobody refreshed this room for over half a TTL: Redis was unreachable (or
-- failing over) for everyone. Forgive the gap, then note this refresh.
local function thaw(expiry, seen, now, ttl)
  local last = tonumber(redis.call('GET', seen))
  if last and now - last > ttl / 2 then
    local all = redis.call('ZRANGE', expiry, 0, -1, 'WITHSCORES')
    for i = 1, #all, 2 do
      redis.call('ZADD', expiry, tonumber(all[i + 1]) + now - last, all[i])
    end
  end
  redis.call('SET', seen, now, 'PX', lifetime(ttl))
end
"""

# KEYS: peers, expiry, seen. ARGV: peer id, user id, entry JSON, capacity, ttl (ms).
# The same peer id again (a retried command whose reply was lost) is no rival.
_LUA_JOIN = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[5])
thaw(KEYS[2], KEYS[3], now, ttl)
local reaped = reap(KEYS[1], KEYS[2], now)
local user, capacity = tonumber(ARGV[2]), tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local others, mine, seq = {}, {}, 0
for i = 1, #all, 2 do
  local entry = cjson.decode(all[i + 1])
  if entry.seq > seq then seq = entry.seq end
  if all[i] ~= ARGV[1] then
    if entry.user == user then mine[#mine + 1] = all[i] else others[#others + 1] = all[i + 1] end
  end
end
if #others >= capacity then
  return {0, others, reaped, {}}
end
local replaced = {}
for _, peer in ipairs(mine) do
  replaced[#replaced + 1] = redis.call('HGET', KEYS[1], peer)
  redis.call('HDEL', KEYS[1], peer)
  redis.call('ZREM', KEYS[2], peer)
end
local entry = cjson.decode(ARGV[3])
entry.seq = seq + 1
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
keep(KEYS[1], KEYS[2], ttl)
return {1, others, reaped, replaced, entry.seq}
"""
)

# KEYS: peers, expiry, seen. ARGV: peer id.
_LUA_LEAVE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
return entry
"""

# KEYS: peers, expiry, seen. ARGV: peer id, channel, grace (ms).
_LUA_HOLD = (
    _LUA_COMMON
    + """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw or cjson.decode(raw).channel ~= ARGV[2] then return 0 end
local grace = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now_ms() + grace, ARGV[1])
keep(KEYS[1], KEYS[2], grace)
return 1
"""
)

# KEYS: peers, expiry, seen. ARGV: peer id, user id, channel, state JSON, ttl (ms).
_LUA_RESUME = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[5])
thaw(KEYS[2], KEYS[3], now, ttl)
local reaped = reap(KEYS[1], KEYS[2], now)
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {0, reaped} end
local entry = cjson.decode(raw)
if entry.user ~= tonumber(ARGV[2]) then return {0, reaped} end
local old = entry.channel
entry.channel = ARGV[3]
entry.state = cjson.decode(ARGV[4])
local encoded = cjson.encode(entry)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
keep(KEYS[1], KEYS[2], ttl)
local others = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then others[#others + 1] = all[i + 1] end
end
return {1, reaped, encoded, old, others}
"""
)

# KEYS: peers, expiry, seen. ARGV: peer id, ttl (ms).
_LUA_REFRESH = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[2])
thaw(KEYS[2], KEYS[3], now, ttl)
local reaped = reap(KEYS[1], KEYS[2], now)
local present = 0
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  present = 1
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
  keep(KEYS[1], KEYS[2], ttl)
end
return {present, reaped}
"""
)

# KEYS: peers, expiry, seen. ARGV: peer id, user id, entry JSON, ttl (ms).
# Returns {status, others, reaped}; status 0 restored, 1 present, 2 replaced.
_LUA_REASSERT = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[4])
thaw(KEYS[2], KEYS[3], now, ttl)
local reaped = reap(KEYS[1], KEYS[2], now)
local user = tonumber(ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
local others, seq, present = {}, 0, 0
for i = 1, #all, 2 do
  local entry = cjson.decode(all[i + 1])
  if entry.seq > seq then seq = entry.seq end
  if all[i] == ARGV[1] then
    present = 1
  else
    if entry.user == user then return {2, {}, reaped} end
    others[#others + 1] = all[i + 1]
  end
end
if present == 0 then
  local entry = cjson.decode(ARGV[3])
  -- Back in its old place (the join order decides who is acting host).
  if not entry.seq or entry.seq == 0 then entry.seq = seq + 1 end
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
keep(KEYS[1], KEYS[2], ttl)
return {present, others, reaped}
"""
)

# KEYS: peers, expiry. The unexpired entries.
_LUA_ENTRIES = (
    _LUA_COMMON
    + """
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now_ms(), '+inf')
local entries = {}
for _, peer in ipairs(live) do
  local raw = redis.call('HGET', KEYS[1], peer)
  if raw then entries[#entries + 1] = raw end
end
return entries
"""
)

# KEYS: epoch. ARGV: a fresh random value, used if there is none.
_LUA_EPOCH = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[1])
  epoch = ARGV[1]
end
return epoch
"""

# KEYS: peers. ARGV: peer id, state changes JSON.
_LUA_SET_STATE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local entry = cjson.decode(raw)
for key, value in pairs(cjson.decode(ARGV[2])) do entry.state[key] = value end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
return cjson.encode(entry.state)
"""

# KEYS: expiry.
_LUA_COUNT = (
    _LUA_COMMON
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')
"""
)


class Refreshed(NamedTuple):
    """A seat's refresh made by the sweep for every connection at once
    (``refresh_many``): for which peer, and its result (present, reaped), or
    ``None`` when presence could not be reached."""

    peer: str
    result: tuple[bool, list[Entry]] | None


class _LoopClient(NamedTuple):
    client: aioredis.Redis
    join: Any
    leave: Any
    refresh: Any
    set_state: Any
    reassert: Any
    epoch: Any


REASSERT_STATUS = {0: "restored", 1: "present", 2: "replaced"}


class RedisPresence(Presence):
    """Presence in Redis, shared by every server process: a URL, or a
    description (``meet.redisconf``, Sentinel included)."""

    def __init__(
        self, redis_at: str | redisconf.RedisConfig, prefix: str = "meet:presence"
    ) -> None:
        self.config = redisconf.RedisConfig(url=redis_at) if isinstance(redis_at, str) else redis_at
        self.prefix = prefix
        # A redis.asyncio connection belongs to the event loop that opened it,
        # so keep one client per loop (a server has one; the tests have many).
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )
        self._sync: redis.Redis | None = None

    def keys(self, room_id: int) -> list[str]:
        base = f"{self.prefix}:{{{int(room_id)}}}"
        return [f"{base}:peers", f"{base}:expiry", f"{base}:seen"]

    def _loop_client(self) -> _LoopClient:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            client = self.config.async_client(decode_responses=True)
            found = _LoopClient(
                client,
                client.register_script(_LUA_JOIN),
                client.register_script(_LUA_LEAVE),
                client.register_script(_LUA_REFRESH),
                client.register_script(_LUA_SET_STATE),
                client.register_script(_LUA_REASSERT),
                client.register_script(_LUA_EPOCH),
            )
            self._clients[loop] = found
        return found

    async def join(self, room_id: int, entry: Entry, capacity: int, ttl: float) -> JoinResult:
        admitted, others, reaped, replaced, *seq = await self._loop_client().join(
            keys=self.keys(room_id),
            args=[entry.peer, entry.user, entry.to_json(), capacity, _ms(ttl)],
        )
        peers = sorted((Entry.from_json(raw) for raw in others), key=lambda e: e.seq)
        return JoinResult(
            bool(admitted),
            peers,
            [Entry.from_json(raw) for raw in reaped],
            [Entry.from_json(raw) for raw in replaced],
            int(seq[0]) if seq else 0,
        )

    async def leave(self, room_id: int, peer: str) -> Entry | None:
        raw = await self._loop_client().leave(keys=self.keys(room_id), args=[peer])
        return Entry.from_json(raw) if raw else None

    async def hold(self, room_id: int, peer: str, channel: str, grace: float) -> bool:
        # Rare (a lost socket), so the script is registered when used.
        script = self._loop_client().client.register_script(_LUA_HOLD)
        return bool(await script(keys=self.keys(room_id), args=[peer, channel, _ms(grace)]))

    async def resume(
        self, room_id: int, peer: str, user: int, channel: str, state: dict[str, bool], ttl: float
    ) -> tuple[ResumeResult | None, list[Entry]]:
        script = self._loop_client().client.register_script(_LUA_RESUME)
        result = await script(
            keys=self.keys(room_id), args=[peer, user, channel, json.dumps(state), _ms(ttl)]
        )
        reaped = [Entry.from_json(raw) for raw in result[1]]
        if not result[0]:
            return None, reaped
        entry, old_channel, others = Entry.from_json(result[2]), str(result[3]), result[4]
        peers = sorted((Entry.from_json(raw) for raw in others), key=lambda e: e.seq)
        return ResumeResult(entry, old_channel, peers, reaped), reaped

    async def refresh(self, room_id: int, peer: str, ttl: float) -> tuple[bool, list[Entry]]:
        present, reaped = await self._loop_client().refresh(
            keys=self.keys(room_id), args=[peer, _ms(ttl)]
        )
        return bool(present), [Entry.from_json(raw) for raw in reaped]

    async def refresh_many(
        self, refreshes: Sequence[tuple[int, str, float]]
    ) -> list[tuple[bool, list[Entry]]]:
        if not refreshes:
            return []
        loop_client = self._loop_client()
        async with loop_client.client.pipeline(transaction=False) as pipe:
            for room_id, peer, ttl in refreshes:
                await loop_client.refresh(
                    keys=self.keys(room_id), args=[peer, _ms(ttl)], client=pipe
                )
            results = await pipe.execute()
        return [
            (bool(present), [Entry.from_json(raw) for raw in reaped]) for present, reaped in results
        ]

    async def set_state(
        self, room_id: int, peer: str, changes: dict[str, bool]
    ) -> dict[str, bool] | None:
        raw = await self._loop_client().set_state(
            keys=self.keys(room_id)[:1], args=[peer, json.dumps(changes)]
        )
        return dict(json.loads(raw)) if raw else None

    async def count(self, room_ids: Iterable[int]) -> dict[int, int]:
        ids = list(room_ids)
        client = self._loop_client().client
        script = client.register_script(_LUA_COUNT)
        async with client.pipeline(transaction=False) as pipe:
            for room_id in ids:
                await script(keys=self.keys(room_id)[1:2], client=pipe)
            results = await pipe.execute()
        return {room_id: int(n) for room_id, n in zip(ids, results, strict=True) if int(n)}

    def count_sync(self, room_ids: Iterable[int]) -> dict[int, int]:
        ids = list(room_ids)
        if self._sync is None:
            self._sync = self.config.sync_client(decode_responses=True)
        script = self._sync.register_script(_LUA_COUNT)
        with self._sync.pipeline(transaction=False) as pipe:
            for room_id in ids:
                script(keys=self.keys(room_id)[1:2], client=pipe)
            results = pipe.execute()
        return {room_id: int(n) for room_id, n in zip(ids, results, strict=True) if int(n)}

    async def entries(self, room_id: int) -> list[Entry]:
        # Host-only frames only (rare): registered when used.
        script = self._loop_client().client.register_script(_LUA_ENTRIES)
        raws = await script(keys=self.keys(room_id)[:2])
        return sorted((Entry.from_json(raw) for raw in raws), key=_join_order)

    def entries_sync(self, room_id: int) -> list[Entry]:
        if self._sync is None:
            self._sync = self.config.sync_client(decode_responses=True)
        peers, expiry, _seen = self.keys(room_id)
        seconds, micros = self._sync.time()  # Redis's clock, as the scripts use
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        with self._sync.pipeline(transaction=True) as pipe:
            pipe.hgetall(peers)
            pipe.zrangebyscore(expiry, f"({now_ms}", "+inf")
            raw, live = pipe.execute()
        alive = set(live)
        entries = (Entry.from_json(text) for peer, text in raw.items() if peer in alive)
        return sorted(entries, key=_join_order)

    async def epoch(self) -> str:
        return str(
            await self._loop_client().epoch(
                keys=[f"{self.prefix}:epoch"], args=[secrets.token_hex(8)]
            )
        )

    async def reassert(self, room_id: int, entry: Entry, ttl: float) -> Reasserted:
        status, others, reaped = await self._loop_client().reassert(
            keys=self.keys(room_id), args=[entry.peer, entry.user, entry.to_json(), _ms(ttl)]
        )
        return Reasserted(
            REASSERT_STATUS[int(status)],
            sorted((Entry.from_json(raw) for raw in others), key=lambda e: e.seq),
            [Entry.from_json(raw) for raw in reaped],
        )

    async def peer_ids(self, room_id: int) -> set[str]:
        names = await self._loop_client().client.hkeys(self.keys(room_id)[0])
        return {name.decode() if isinstance(name, bytes) else name for name in names}

    def changed_key(self, room_id: int) -> str:
        return f"{self.prefix}:{{{int(room_id)}}}:changed"

    def user_changed_key(self, user_id: int) -> str:
        return f"{self.prefix}:user:{int(user_id)}:changed"

    def note_access_change_sync(
        self, *, room_id: int | None = None, user_id: int | None = None
    ) -> None:
        if self._sync is None:
            self._sync = self.config.sync_client(decode_responses=True)
        if room_id is not None:
            self._sync.set(self.changed_key(room_id), 1, px=_ms(CHANGED_FOR))
        if user_id is not None:
            self._sync.set(self.user_changed_key(user_id), 1, px=_ms(CHANGED_FOR))

    async def access_changed_lately(
        self, *, room_id: int, user_id: int | None
    ) -> frozenset[Changed]:
        scopes: list[Changed] = ["room"]
        keys = [self.changed_key(room_id)]
        if user_id is not None:
            scopes.append("user")
            keys.append(self.user_changed_key(user_id))
        found = await self._loop_client().client.mget(keys)
        return frozenset(scope for scope, value in zip(scopes, found, strict=True) if value)

    async def aclose(self) -> None:
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.client.aclose()


def _join_order(entry: Entry) -> tuple[int, str]:
    return entry.seq, entry.peer


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


_memory = MemoryPresence()
_redis: dict[redisconf.RedisConfig, RedisPresence] = {}


def get_presence() -> Presence:
    """The backend the settings select: Redis when one is configured
    (``REDIS_URL`` or Sentinel), else memory."""
    config = redisconf.from_settings(settings)
    if not config.configured:
        return _memory
    backend = _redis.get(config)
    if backend is None:
        backend = _redis[config] = RedisPresence(config)
    return backend
