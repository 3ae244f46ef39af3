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

Redis keys, per room (``{id}`` is a hash tag, so a room's keys share a slot):
``<prefix>:{<room id>}:peers`` (hash: peer id -> entry JSON) and
``<prefix>:{<room id>}:expiry`` (sorted set: peer id -> expiry in ms). Both
carry a PEXPIRE of at least twice the entry TTL, so an empty or abandoned
room leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import redis
import redis.asyncio as aioredis
from django.conf import settings


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
        """What other members see (never the channel name or the user id)."""
        return {"peer": self.peer, "name": self.name, "host": self.host, "state": self.state}

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
    them as ``replaced``)."""

    admitted: bool
    peers: list[Entry]
    reaped: list[Entry]
    replaced: list[Entry]


class Refreshed(NamedTuple):
    """One room's outcome of ``refresh_many``: the listed peers still present
    (their expiry pushed forward) and the expired entries removed on the way."""

    present: set[str]
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
    async def refresh(self, room_id: int, peer: str, ttl: float) -> tuple[bool, list[Entry]]:
        """Reap expired entries, then push this peer's expiry forward.
        Returns (still present, reaped entries)."""

    async def refresh_many(
        self, seats: Mapping[int, Collection[str]], ttl: float
    ) -> dict[int, Refreshed]:
        """``refresh`` for many peers of many rooms at once (the process's
        sweep): per room, reap expired entries once, then push forward the
        expiry of every listed peer still present. Every room of ``seats`` is
        in the result. The backends do it in one pass (Redis: one round trip);
        this fallback is one ``refresh`` per peer."""
        results = {}
        for room_id, peers in seats.items():
            present, reaped = set(), []
            for peer in peers:
                alive, gone = await self.refresh(room_id, peer, ttl)
                reaped.extend(gone)
                if alive:
                    present.add(peer)
            results[room_id] = Refreshed(present, reaped)
        return results

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
        mine = [peer for peer, (e, _) in room.items() if e.user == entry.user]
        others = [e for e, _ in room.values() if e.user != entry.user]
        if len(others) >= capacity:
            self._drop_if_empty(room_id)
            return JoinResult(False, others, reaped, [])
        replaced = [room.pop(peer)[0] for peer in mine]
        self._seq += 1
        room[entry.peer] = (replace(entry, seq=self._seq), now + ttl)
        return JoinResult(True, others, reaped, replaced)

    async def leave(self, room_id: int, peer: str) -> Entry | None:
        room = self._rooms.get(room_id)
        if room is None or peer not in room:
            return None
        entry = room.pop(peer)[0]
        self._drop_if_empty(room_id)
        return entry

    async def refresh(self, room_id: int, peer: str, ttl: float) -> tuple[bool, list[Entry]]:
        now = time.monotonic()
        room = self._rooms.get(room_id)
        if room is None:
            return False, []
        reaped = self._reap(room, now)
        present = peer in room
        if present:
            room[peer] = (room[peer][0], now + ttl)
        self._drop_if_empty(room_id)
        return present, reaped

    async def refresh_many(
        self, seats: Mapping[int, Collection[str]], ttl: float
    ) -> dict[int, Refreshed]:
        now = time.monotonic()
        expires = now + ttl
        results = {}
        for room_id, peers in seats.items():
            room = self._rooms.get(room_id)
            if room is None:
                results[room_id] = Refreshed(set(), [])
                continue
            reaped = self._reap(room, now)
            present = set()
            for peer in peers:
                slot = room.get(peer)
                if slot is not None:
                    room[peer] = (slot[0], expires)
                    present.add(peer)
            self._drop_if_empty(room_id)
            results[room_id] = Refreshed(present, reaped)
        return results

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

    def clear(self) -> None:
        """Forget everything (tests)."""
        self._rooms.clear()


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
-- Extend (never shorten) the room's keys to outlive its entries.
local function keep(peers, expiry, ttl)
  for _, key in ipairs({peers, expiry}) do
    if redis.call('PTTL', key) < 2 * ttl then redis.call('PEXPIRE', key, 2 * ttl) end
  end
end
"""

# KEYS: peers, expiry. ARGV: peer id, user id, entry JSON, capacity, ttl (ms).
_LUA_JOIN = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[5])
local reaped = reap(KEYS[1], KEYS[2], now)
local user, capacity = tonumber(ARGV[2]), tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local others, mine, seq = {}, {}, 0
for i = 1, #all, 2 do
  local entry = cjson.decode(all[i + 1])
  if entry.seq > seq then seq = entry.seq end
  if entry.user == user then mine[#mine + 1] = all[i] else others[#others + 1] = all[i + 1] end
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
return {1, others, reaped, replaced}
"""
)

# KEYS: peers, expiry. ARGV: peer id.
_LUA_LEAVE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return entry
"""

# KEYS: peers, expiry. ARGV: peer id, ttl (ms).
_LUA_REFRESH = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[2])
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

# KEYS: peers, expiry. ARGV: ttl (ms), then the peer ids to refresh.
_LUA_REFRESH_MANY = (
    _LUA_COMMON
    + """
local now, ttl = now_ms(), tonumber(ARGV[1])
local reaped = reap(KEYS[1], KEYS[2], now)
local present = {}
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    present[#present + 1] = ARGV[i]
    redis.call('ZADD', KEYS[2], now + ttl, ARGV[i])
  end
end
if #present > 0 then keep(KEYS[1], KEYS[2], ttl) end
return {present, reaped}
"""
)

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


class _LoopClient(NamedTuple):
    client: aioredis.Redis
    join: Any
    leave: Any
    refresh: Any
    set_state: Any


class RedisPresence(Presence):
    """Presence in Redis, shared by every server process."""

    def __init__(self, url: str, prefix: str = "meet:presence") -> None:
        self.url = url
        self.prefix = prefix
        # A redis.asyncio connection belongs to the event loop that opened it,
        # so keep one client per loop (a server has one; the tests have many).
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )
        self._sync: redis.Redis | None = None

    def keys(self, room_id: int) -> list[str]:
        base = f"{self.prefix}:{{{int(room_id)}}}"
        return [f"{base}:peers", f"{base}:expiry"]

    def _loop_client(self) -> _LoopClient:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            client = aioredis.Redis.from_url(self.url, decode_responses=True)
            found = _LoopClient(
                client,
                client.register_script(_LUA_JOIN),
                client.register_script(_LUA_LEAVE),
                client.register_script(_LUA_REFRESH),
                client.register_script(_LUA_SET_STATE),
            )
            self._clients[loop] = found
        return found

    async def join(self, room_id: int, entry: Entry, capacity: int, ttl: float) -> JoinResult:
        admitted, others, reaped, replaced = await self._loop_client().join(
            keys=self.keys(room_id),
            args=[entry.peer, entry.user, entry.to_json(), capacity, _ms(ttl)],
        )
        peers = sorted((Entry.from_json(raw) for raw in others), key=lambda e: e.seq)
        return JoinResult(
            bool(admitted),
            peers,
            [Entry.from_json(raw) for raw in reaped],
            [Entry.from_json(raw) for raw in replaced],
        )

    async def leave(self, room_id: int, peer: str) -> Entry | None:
        raw = await self._loop_client().leave(keys=self.keys(room_id), args=[peer])
        return Entry.from_json(raw) if raw else None

    async def refresh(self, room_id: int, peer: str, ttl: float) -> tuple[bool, list[Entry]]:
        present, reaped = await self._loop_client().refresh(
            keys=self.keys(room_id), args=[peer, _ms(ttl)]
        )
        return bool(present), [Entry.from_json(raw) for raw in reaped]

    async def refresh_many(
        self, seats: Mapping[int, Collection[str]], ttl: float
    ) -> dict[int, Refreshed]:
        """One script per room (a room's keys share a slot), all in one pipeline."""
        rooms = [(room_id, list(peers)) for room_id, peers in seats.items()]
        if not rooms:
            return {}
        client = self._loop_client().client
        script = client.register_script(_LUA_REFRESH_MANY)
        async with client.pipeline(transaction=False) as pipe:
            for room_id, peers in rooms:
                await script(keys=self.keys(room_id), args=[_ms(ttl), *peers], client=pipe)
            replies = await pipe.execute()
        return {
            room_id: Refreshed(set(present), [Entry.from_json(raw) for raw in reaped])
            for (room_id, _), (present, reaped) in zip(rooms, replies, strict=True)
        }

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
                await script(keys=self.keys(room_id)[1:], client=pipe)
            results = await pipe.execute()
        return {room_id: int(n) for room_id, n in zip(ids, results, strict=True) if int(n)}

    def count_sync(self, room_ids: Iterable[int]) -> dict[int, int]:
        ids = list(room_ids)
        if self._sync is None:
            self._sync = redis.Redis.from_url(self.url, decode_responses=True)
        script = self._sync.register_script(_LUA_COUNT)
        with self._sync.pipeline(transaction=False) as pipe:
            for room_id in ids:
                script(keys=self.keys(room_id)[1:], client=pipe)
            results = pipe.execute()
        return {room_id: int(n) for room_id, n in zip(ids, results, strict=True) if int(n)}

    async def aclose(self) -> None:
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.client.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


_memory = MemoryPresence()
_redis: dict[str, RedisPresence] = {}


def get_presence() -> Presence:
    """The backend ``settings.REDIS_URL`` selects: Redis when set, else memory."""
    url = settings.REDIS_URL
    if not url:
        return _memory
    backend = _redis.get(url)
    if backend is None:
        backend = _redis[url] = RedisPresence(url)
    return backend
