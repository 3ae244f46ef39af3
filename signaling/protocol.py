"""The signaling wire protocol: close codes, error codes, limits and the schema
of every client message. docs/protocol.md is the prose version of this module.

Validation is hand-written ``isinstance`` checks, one small function per
message type: it runs on every relayed frame, so it has to be cheap, and a
schema library would buy nothing for ten flat messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

from django.conf import settings


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (docs/protocol.md, "Close codes")."""

    LEFT = 1000
    SERVER_ERROR = 1011
    KICKED = 4000
    REPLACED = 4001
    # More sockets open for this account than the caps allow (signaling/sockets.py).
    TOO_MANY_SOCKETS = 4002
    # Right after the handshake, before anything else is looked at (signaling/origin.py).
    ORIGIN_NOT_ALLOWED = 4003
    PROTOCOL = 4400
    NOT_SIGNED_IN = 4401
    NOT_MEMBER = 4403
    NO_ROOM = 4404
    # A host in the call did not let this person in from the lobby (signaling/lobby.py).
    DENIED = 4405
    TIMEOUT = 4408
    FULL = 4409
    ENDED = 4410
    # A guest's access ended (their invite was revoked, or their pass expired).
    GUEST_REMOVED = 4411
    # A resume token that is not this user's, not this room's, expired, or
    # whose seat is gone: nothing changed, join afresh.
    RESUME_REFUSED = 4412
    TOO_LARGE = 4413
    LOCKED = 4423
    FLOOD = 4429


class ErrorCode(StrEnum):
    """``code`` of an ``error`` frame; the socket stays open."""

    BAD_JSON = "bad-json"
    UNKNOWN_TYPE = "unknown-type"
    INVALID = "invalid"
    NOT_JOINED = "not-joined"
    ALREADY_JOINED = "already-joined"
    UNKNOWN_PEER = "unknown-peer"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "server-error"


class LeaveReason(StrEnum):
    """``reason`` of a ``peer-left`` frame."""

    LEFT = "left"
    TIMEOUT = "timeout"
    KICKED = "kicked"
    REMOVED = "removed"
    REPLACED = "replaced"


STATE_KEYS = ("muted", "camera", "screen", "hand")
DEFAULT_STATE = {"muted": False, "camera": True, "screen": False, "hand": False}
MAX_NAME = 50
MAX_REF = 64
# Peer ids are 12 characters; anything much longer cannot be one.
MAX_PEER_ID = 64
MAX_SDP_MID = 32
MAX_UFRAG = 256
MAX_MLINE_INDEX = 63
# Resume tokens are about 50 characters (signaling/resume.py).
MAX_RESUME_TOKEN = 128
# A negotiation generation is a counter per pair and direction.
MAX_GEN = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Limits:
    """``settings.SIGNALING``, read once per connection (tests shrink the timers)."""

    heartbeat_interval: float
    heartbeat_timeout: float
    presence_ttl: float
    tick: float
    recheck_interval: float
    resume_grace: float
    link_report: float
    rate: float
    burst: int
    rate_strikes: int
    invalid_strikes: int
    max_frame: int
    max_sdp: int
    max_candidate: int
    max_queue: int
    max_sockets_per_room: int
    max_sockets_per_user: int

    @classmethod
    def from_settings(cls) -> Limits:
        conf = settings.SIGNALING
        return cls(
            heartbeat_interval=conf["HEARTBEAT_INTERVAL"],
            heartbeat_timeout=conf["HEARTBEAT_TIMEOUT"],
            presence_ttl=conf["PRESENCE_TTL"],
            tick=conf["TICK"],
            recheck_interval=conf["RECHECK_INTERVAL"],
            resume_grace=conf["RESUME_GRACE"],
            link_report=conf["LINK_REPORT"],
            rate=conf["RATE"],
            burst=int(conf["BURST"]),
            rate_strikes=int(conf["RATE_STRIKES"]),
            invalid_strikes=int(conf["INVALID_STRIKES"]),
            max_frame=int(conf["MAX_FRAME"]),
            max_sdp=int(conf["MAX_SDP"]),
            max_candidate=int(conf["MAX_CANDIDATE"]),
            max_queue=int(conf["MAX_QUEUE"]),
            max_sockets_per_room=int(conf["MAX_SOCKETS_PER_ROOM"]),
            max_sockets_per_user=int(conf["MAX_SOCKETS_PER_USER"]),
        )


class ProtocolError(Exception):
    """A client frame that breaks the protocol; answered with an ``error`` frame."""

    def __init__(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


class ClientMessage(NamedTuple):
    """A validated client frame: its type, its checked fields, and its ``ref``."""

    type: str
    fields: dict[str, Any]
    ref: str | None


def utf8_length_exceeds(text: str, limit: int) -> bool:
    """Whether ``text`` is longer than ``limit`` bytes in UTF-8, without encoding
    it when the character count already decides."""
    length = len(text)
    if length > limit:
        return True
    if length * 4 <= limit or text.isascii():
        return False
    return len(text.encode()) > limit


def frame_too_large(text: str, limits: Limits) -> bool:
    return utf8_length_exceeds(text, limits.max_frame)


# --- Field checks ----------------------------------------------------------------


def _invalid(field: str, problem: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID, f"{field}: {problem}")


def _text(value: Any, name: str, limit: int) -> str:
    """A string of at most ``limit`` UTF-8 bytes that can be encoded again.

    JSON escapes can smuggle in lone surrogates ("\\ud800"), which no UTF-8
    encoder accepts: such a string would fail only later, when relayed or
    stored, so it is refused here.
    """
    if not isinstance(value, str):
        raise _invalid(name, "must be a string")
    if value.isascii():
        size = len(value)
    else:
        try:
            size = len(value.encode())
        except UnicodeEncodeError:
            raise _invalid(name, "is not valid Unicode") from None
    if size > limit:
        raise _invalid(name, f"longer than {limit} bytes")
    return value


def _optional_text(frame: dict[str, Any], key: str, name: str, limit: int) -> str | None:
    value = frame.get(key)
    return None if value is None else _text(value, name, limit)


def _peer_id(frame: dict[str, Any], key: str) -> str:
    """A string that could be a peer id (whether it names one is the consumer's call)."""
    value = frame.get(key)
    if value is None:
        raise _invalid(key, "required")
    if not _text(value, key, MAX_PEER_ID):
        raise _invalid(key, "must not be empty")
    return str(value)


def _state(value: Any, name: str) -> dict[str, bool]:
    """A partial media state: only the known keys, each a JSON boolean."""
    if not isinstance(value, dict):
        raise _invalid(name, "must be an object")
    state: dict[str, bool] = {}
    for key in STATE_KEYS:
        flag = value.get(key)
        if flag is None:
            continue
        if not isinstance(flag, bool):
            raise _invalid(f"{name}.{key}", "must be a boolean")
        state[key] = flag
    return state


# --- Schemas, one per client type --------------------------------------------------


def _join(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    name = frame.get("name")
    if name is not None:
        name = _text(name, "name", 4 * MAX_NAME).strip()
        if len(name) > MAX_NAME:
            raise _invalid("name", f"longer than {MAX_NAME} characters")
    state = dict(DEFAULT_STATE)
    if frame.get("state") is not None:
        state.update(_state(frame["state"], "state"))
    resume = _optional_text(frame, "resume", "resume", MAX_RESUME_TOKEN)
    return {"name": name or None, "state": state, "resume": resume or None}


def _description(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    to = _peer_id(frame, "to")
    if frame.get("sdp") is None:
        raise _invalid("sdp", "required")
    sdp = _text(frame["sdp"], "sdp", limits.max_sdp)
    if not sdp:
        raise _invalid("sdp", "must not be empty")
    gen = frame.get("gen")
    if gen is not None and (type(gen) is not int or not 0 <= gen <= MAX_GEN):
        raise _invalid("gen", f"must be an integer 0–{MAX_GEN}")
    return {"to": to, "sdp": sdp, "gen": gen}


def _candidate(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    to = _peer_id(frame, "to")
    if "candidate" not in frame:
        raise _invalid("candidate", "required (null for end of candidates)")
    raw = frame["candidate"]
    if raw is None:
        return {"to": to, "candidate": None}
    if not isinstance(raw, dict):
        raise _invalid("candidate", "must be an object or null")
    line = _text(raw.get("candidate"), "candidate.candidate", limits.max_candidate)
    index = raw.get("sdpMLineIndex")
    if index is not None and (
        type(index) is not int or not 0 <= index <= MAX_MLINE_INDEX  # bool is not an index
    ):
        raise _invalid("candidate.sdpMLineIndex", f"must be an integer 0–{MAX_MLINE_INDEX}")
    candidate = {
        "candidate": line,
        "sdpMid": _optional_text(raw, "sdpMid", "candidate.sdpMid", MAX_SDP_MID),
        "sdpMLineIndex": index,
        "usernameFragment": _optional_text(
            raw, "usernameFragment", "candidate.usernameFragment", MAX_UFRAG
        ),
    }
    return {"to": to, "candidate": candidate}


def _state_change(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    if frame.get("state") is None:
        raise _invalid("state", "required")
    return {"state": _state(frame["state"], "state")}


def _kick(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {"peer": _peer_id(frame, "peer")}


NO_REMOTE_UNMUTE = "Nobody can be unmuted remotely: people unmute themselves."


def _mute(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """One ``peer``, or ``"all": true`` for everyone else; ``peer`` is
    ``None`` for everyone. Asking for anything but muting is refused."""
    if frame.get("muted", True) is not True:
        raise ProtocolError(ErrorCode.FORBIDDEN, NO_REMOTE_UNMUTE)
    everyone = frame.get("all")
    if everyone is not None and not isinstance(everyone, bool):
        raise _invalid("all", "must be a boolean")
    if everyone:
        if frame.get("peer") is not None:
            raise _invalid("peer", "not allowed together with all")
        return {"peer": None}
    return {"peer": _peer_id(frame, "peer")}


def _unmute(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    # There is no such message; a clear refusal beats "unknown type".
    raise ProtocolError(ErrorCode.FORBIDDEN, NO_REMOTE_UNMUTE)


# A link summary (``links``): at most this many pairs, and these values.
MAX_LINKS = 8
LINK_PATHS = frozenset({"host", "srflx", "prflx", "relay"})
LINK_TRANSPORTS = frozenset({"udp", "tcp"})
MAX_LINK_RTT_MS = 60_000


def _optional_number(item: dict[str, Any], key: str, name: str, top: float) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if type(value) not in (int, float) or not 0 <= value <= top:
        raise _invalid(name, f"must be a number 0–{top:g} or null")
    return round(float(value), 1)


def _optional_choice(
    item: dict[str, Any], key: str, name: str, choices: frozenset[str]
) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if value not in choices:
        raise _invalid(name, f"must be one of {', '.join(sorted(choices))} or null")
    return str(value)


def _links(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    links = frame.get("links")
    if not isinstance(links, list) or len(links) > MAX_LINKS:
        raise _invalid("links", f"must be a list of at most {MAX_LINKS} pairs")
    summary = []
    for index, item in enumerate(links):
        name = f"links[{index}]"
        if not isinstance(item, dict):
            raise _invalid(name, "must be an object")
        summary.append(
            {
                "peer": _peer_id(item, "peer"),
                "path": _optional_choice(item, "path", f"{name}.path", LINK_PATHS),
                "transport": _optional_choice(
                    item, "transport", f"{name}.transport", LINK_TRANSPORTS
                ),
                "rtt": _optional_number(item, "rtt", f"{name}.rtt", MAX_LINK_RTT_MS),
                "loss": _optional_number(item, "loss", f"{name}.loss", 100),
            }
        )
    return {"links": summary}


def _lobby(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """A host turns the room's lobby on or off: ``on``, a JSON boolean."""
    on = frame.get("on")
    if not isinstance(on, bool):
        raise _invalid("on", "must be a boolean")
    return {"on": on}


def _lobby_answer(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """``admit`` / ``deny``: the ``id`` of one waiting person, or ``"*"`` for all."""
    return {"id": _peer_id(frame, "id")}


def _no_fields(frame: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {}


SCHEMAS: dict[str, Callable[[dict[str, Any], Limits], dict[str, Any]]] = {
    "join": _join,
    "offer": _description,
    "answer": _description,
    "candidate": _candidate,
    "state": _state_change,
    "ping": _no_fields,
    "ice-servers": _no_fields,
    "kick": _kick,
    "mute": _mute,
    "unmute": _unmute,
    "end": _no_fields,
    "leave": _no_fields,
    "links": _links,
    "lobby": _lobby,
    "admit": _lobby_answer,
    "deny": _lobby_answer,
}

# Types a client may send before it has joined.
PRE_JOIN_TYPES = frozenset({"join", "ping"})
# Relayed to the one peer named in ``to``, stamped with the sender's peer id.
RELAYED_TYPES = frozenset({"offer", "answer", "candidate"})


def parse_client_message(text: str, limits: Limits) -> ClientMessage:
    """Decode and validate one client text frame (already size-checked).

    Raises ``ProtocolError``; its ``ref`` is set once the frame's own ``ref``
    could be read, so the error can be matched to the frame.
    """
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON and over-long integer literals;
        # RecursionError a frame nested thousands of levels deep.
        raise ProtocolError(ErrorCode.BAD_JSON, "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise ProtocolError(ErrorCode.BAD_JSON, "The frame is not a JSON object.")
    ref = frame.get("ref")
    if ref is not None:
        try:
            if len(_text(ref, "ref", 4 * MAX_REF)) > MAX_REF:
                raise _invalid("ref", f"longer than {MAX_REF} characters")
        except ProtocolError as exc:
            raise ProtocolError(exc.code, exc.message) from None  # no ref to echo
    kind = frame.get("type")
    schema = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, "Unknown or missing message type.", ref)
    try:
        fields = schema(frame, limits)
    except ProtocolError as exc:
        exc.ref = ref
        raise
    return ClientMessage(str(kind), fields, ref)


# --- Server frames -----------------------------------------------------------------


# One encoder for every frame: json.dumps with options builds a new one on
# every call (a quarter of the encoding's time for a 1 KB candidate). Frames
# are plain trees of dicts, lists and strings, never circular.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def encode(frame: dict[str, Any]) -> str:
    """Compact JSON; non-ASCII names travel as UTF-8, not escapes."""
    return _ENCODER.encode(frame)


def error_frame(code: ErrorCode, message: str, ref: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": str(code), "message": message}
    if ref is not None:
        frame["ref"] = ref
    return encode(frame)


def relay_frame(kind: str, sender: str, fields: dict[str, Any]) -> str:
    """The frame a recipient of an offer, answer or candidate gets: only the
    known fields, with ``from`` stamped by the server."""
    if kind == "candidate":
        return encode({"type": kind, "from": sender, "candidate": fields["candidate"]})
    if fields.get("gen") is not None:
        return encode({"type": kind, "from": sender, "sdp": fields["sdp"], "gen": fields["gen"]})
    return encode({"type": kind, "from": sender, "sdp": fields["sdp"]})
