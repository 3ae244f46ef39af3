"""Every schema rule of signaling.protocol (docs/protocol.md, "Envelope" and below)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from signaling.protocol import (
    DEFAULT_STATE,
    ClientMessage,
    CloseCode,
    ErrorCode,
    Limits,
    ProtocolError,
    error_frame,
    frame_too_large,
    parse_client_message,
    relay_frame,
)

LIMITS = Limits.from_settings()


def parse(frame: dict | str) -> ClientMessage:
    text = frame if isinstance(frame, str) else json.dumps(frame)
    return parse_client_message(text, LIMITS)


def refused(frame: dict | str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    return caught.value


def test_limits_come_from_settings():
    assert LIMITS.max_frame == settings.SIGNALING["MAX_FRAME"] == 64 * 1024
    assert LIMITS.max_sdp == 32 * 1024
    assert LIMITS.max_candidate == 1024
    assert (LIMITS.rate, LIMITS.burst) == (50, 200)


def test_close_codes_match_the_document():
    assert {code.value for code in CloseCode} == {
        1000, 1011, 4000, 4001, 4002, 4003, 4400, 4401, 4403, 4404, 4405, 4408, 4409, 4410,
        4411, 4412,
        4413, 4423,
        4429,
    }  # fmt: skip


# --- Envelope -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "{", "nul", "[]", "3", '"ping"', "null", "NaN x"])
def test_not_a_json_object_is_bad_json(text: str):
    assert refused(text).code == ErrorCode.BAD_JSON


def test_deeply_nested_frame_is_bad_json_not_a_crash():
    assert refused("[" * 50_000 + "]" * 50_000).code == ErrorCode.BAD_JSON
    assert refused('{"a":' * 30_000 + "1" + "}" * 30_000).code in {
        ErrorCode.BAD_JSON,
        ErrorCode.UNKNOWN_TYPE,
    }


def test_overlong_integer_literal_is_bad_json():
    assert refused('{"type": "ping", "x": ' + "9" * 10_000 + "}").code == ErrorCode.BAD_JSON


@pytest.mark.parametrize("frame", [{}, {"type": "teleport"}, {"type": 1}, {"type": None},
                                   {"type": ["join"]}, {"type": "Join"}])  # fmt: skip
def test_missing_or_unknown_type(frame: dict):
    assert refused(frame).code == ErrorCode.UNKNOWN_TYPE


def test_ref_is_echoed_into_errors_about_the_frame():
    error = refused({"type": "offer", "to": "x", "ref": "17"})
    assert (error.code, error.ref) == (ErrorCode.INVALID, "17")
    assert refused({"type": "nope", "ref": "18"}).ref == "18"
    assert parse({"type": "ping", "ref": "x" * 64}).ref == "x" * 64


@pytest.mark.parametrize("ref", [5, "x" * 65, ["a"], True])
def test_bad_ref_is_invalid(ref):
    error = refused({"type": "ping", "ref": ref})
    assert error.code == ErrorCode.INVALID
    assert error.ref is None


def test_unknown_fields_are_ignored():
    assert parse({"type": "ping", "whatever": {"deep": [1]}}) == ClientMessage("ping", {}, None)


@pytest.mark.parametrize("kind", ["ping", "ice-servers", "end", "leave"])
def test_types_without_fields(kind: str):
    assert parse({"type": kind}) == ClientMessage(kind, {}, None)


def test_frame_cap_counts_utf8_bytes():
    assert not frame_too_large("a" * LIMITS.max_frame, LIMITS)
    assert frame_too_large("a" * (LIMITS.max_frame + 1), LIMITS)
    assert frame_too_large("한" * (LIMITS.max_frame // 3 + 1), LIMITS)  # 3 bytes each
    assert not frame_too_large("한" * (LIMITS.max_frame // 3), LIMITS)


# --- join -----------------------------------------------------------------------------


def test_join_defaults():
    assert parse({"type": "join"}).fields == {"name": None, "state": DEFAULT_STATE, "resume": None}
    assert DEFAULT_STATE == {"muted": False, "camera": True, "screen": False, "hand": False}


def test_join_name_is_trimmed_and_capped_at_50():
    assert parse({"type": "join", "name": "  민지  "}).fields["name"] == "민지"
    assert parse({"type": "join", "name": " " + "가" * 50 + " "}).fields["name"] == "가" * 50
    assert parse({"type": "join", "name": "   "}).fields["name"] is None
    assert refused({"type": "join", "name": "x" * 51}).code == ErrorCode.INVALID
    assert refused({"type": "join", "name": 5}).code == ErrorCode.INVALID


def test_join_state_fills_in_missing_keys():
    fields = parse({"type": "join", "state": {"muted": True, "camera": False, "x": 1}}).fields
    assert fields["state"] == {"muted": True, "camera": False, "screen": False, "hand": False}


@pytest.mark.parametrize("state", [[], "muted", {"muted": 1}, {"hand": "true"}, {"screen": 0}])
def test_join_state_must_be_an_object_of_booleans(state):
    assert refused({"type": "join", "state": state}).code == ErrorCode.INVALID


# --- offer / answer ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["offer", "answer"])
def test_description(kind: str):
    message = parse({"type": kind, "to": "Vx3k9QmT2pLa", "sdp": "v=0\r\n", "from": "forged"})
    assert message.fields == {"to": "Vx3k9QmT2pLa", "sdp": "v=0\r\n", "gen": None}


@pytest.mark.parametrize("kind", ["offer", "answer"])
def test_description_generation_is_a_small_integer(kind: str):
    frame = {"type": kind, "to": "x", "sdp": "v=0"}
    assert parse({**frame, "gen": 7}).fields["gen"] == 7
    assert parse({**frame, "gen": 0}).fields["gen"] == 0
    for bad in (-1, 2**31, 1.5, "3", True, [1]):
        assert refused({**frame, "gen": bad}).code == ErrorCode.INVALID


def test_generation_is_relayed_untouched():
    fields = {"to": "x", "sdp": "v=0", "gen": 4}
    assert json.loads(relay_frame("answer", "me", fields)) == {
        "type": "answer", "from": "me", "sdp": "v=0", "gen": 4,
    }  # fmt: skip
    fields["gen"] = None
    assert json.loads(relay_frame("offer", "me", fields)) == {
        "type": "offer", "from": "me", "sdp": "v=0",
    }  # fmt: skip


def test_join_resume_token_is_a_bounded_string():
    assert parse({"type": "join", "resume": "a.b.c"}).fields["resume"] == "a.b.c"
    assert parse({"type": "join", "resume": ""}).fields["resume"] is None
    assert refused({"type": "join", "resume": 5}).code == ErrorCode.INVALID
    assert refused({"type": "join", "resume": "x" * 129}).code == ErrorCode.INVALID


@pytest.mark.parametrize(
    "frame",
    [
        {"to": "x"},
        {"sdp": "v=0"},
        {"to": "", "sdp": "v=0"},
        {"to": "x" * 65, "sdp": "v=0"},
        {"to": 5, "sdp": "v=0"},
        {"to": "x", "sdp": 5},
        {"to": "x", "sdp": ""},
        {"to": "x", "sdp": {"sdp": "v=0"}},
        {"to": "x", "sdp": "a" * (32 * 1024 + 1)},
        {"to": "x", "sdp": "가" * (32 * 1024 // 3 + 1)},
    ],
)
def test_description_rules(frame: dict):
    assert refused({"type": "offer", **frame}).code == ErrorCode.INVALID


def test_sdp_at_the_cap_is_fine():
    assert parse({"type": "answer", "to": "x", "sdp": "a" * 32 * 1024}).type == "answer"


# --- candidate ------------------------------------------------------------------------------


def test_candidate_is_normalised_to_the_four_fields():
    fields = parse({"type": "candidate", "to": "x", "candidate": {"candidate": "c", "y": 1}}).fields
    assert fields == {
        "to": "x",
        "candidate": {"candidate": "c", "sdpMid": None, "sdpMLineIndex": None,
                      "usernameFragment": None},
    }  # fmt: skip


def test_null_candidate_means_end_of_candidates():
    assert parse({"type": "candidate", "to": "x", "candidate": None}).fields["candidate"] is None


@pytest.mark.parametrize(
    "candidate",
    [
        {"candidate": "c", "sdpMLineIndex": 63, "sdpMid": "m" * 32, "usernameFragment": "u" * 256},
        {"candidate": "", "sdpMLineIndex": 0},
        {"candidate": "a" * 1024},
    ],
)
def test_candidate_accepts(candidate: dict):
    assert parse({"type": "candidate", "to": "x", "candidate": candidate}).fields["candidate"]


@pytest.mark.parametrize(
    "candidate",
    [
        "candidate:1 1 udp",
        [],
        {},
        {"candidate": None},
        {"candidate": 5},
        {"candidate": "a" * 1025},
        {"candidate": "c", "sdpMLineIndex": 64},
        {"candidate": "c", "sdpMLineIndex": -1},
        {"candidate": "c", "sdpMLineIndex": 1.0},
        {"candidate": "c", "sdpMLineIndex": True},
        {"candidate": "c", "sdpMLineIndex": "0"},
        {"candidate": "c", "sdpMid": 0},
        {"candidate": "c", "sdpMid": "m" * 33},
        {"candidate": "c", "usernameFragment": "u" * 257},
        {"candidate": "c", "usernameFragment": 1},
    ],
)
def test_candidate_rules(candidate):
    assert refused({"type": "candidate", "to": "x", "candidate": candidate}).code == "invalid"


def test_candidate_field_is_required():
    assert refused({"type": "candidate", "to": "x"}).code == ErrorCode.INVALID


# --- state, kick ------------------------------------------------------------------------------


def test_state_keeps_only_known_keys():
    fields = parse({"type": "state", "state": {"muted": True, "volume": 3}}).fields
    assert fields == {"state": {"muted": True}}


@pytest.mark.parametrize("frame", [{}, {"state": None}, {"state": []}, {"state": {"hand": 1}}])
def test_state_rules(frame: dict):
    assert refused({"type": "state", **frame}).code == ErrorCode.INVALID


def test_kick_needs_a_peer():
    assert parse({"type": "kick", "peer": "Vx3k9QmT2pLa"}).fields == {"peer": "Vx3k9QmT2pLa"}
    for frame in ({}, {"peer": 3}, {"peer": ""}, {"peer": "x" * 65}):
        assert refused({"type": "kick", **frame}).code == ErrorCode.INVALID


# --- mute (hosts, docs/protocol.md "Hosts in the call") ---------------------------------------


def test_mute_names_one_peer_or_everyone():
    assert parse({"type": "mute", "peer": "Vx3k9QmT2pLa"}).fields == {"peer": "Vx3k9QmT2pLa"}
    assert parse({"type": "mute", "all": True, "ref": "m"}) == ClientMessage(
        "mute", {"peer": None}, "m"
    )
    assert parse({"type": "mute", "all": False, "peer": "p"}).fields == {"peer": "p"}
    assert parse({"type": "mute", "peer": "p", "muted": True}).fields == {"peer": "p"}


@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"all": False},
        {"all": "yes"},
        {"all": 1},
        {"all": True, "peer": "p"},
        {"peer": 3},
        {"peer": ""},
        {"peer": "x" * 65},
    ],
)
def test_mute_rules(frame: dict):
    assert refused({"type": "mute", **frame}).code == ErrorCode.INVALID


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "unmute", "peer": "p", "ref": "u"},
        {"type": "unmute", "all": True, "ref": "u"},
        {"type": "mute", "peer": "p", "muted": False, "ref": "u"},
        {"type": "mute", "all": True, "muted": "no", "ref": "u"},
    ],
)
def test_nobody_can_ask_to_unmute_someone(frame: dict):
    error = refused(frame)
    assert (error.code, error.ref) == (ErrorCode.FORBIDDEN, "u")
    assert "unmuted remotely" in error.message


# --- Server frames ----------------------------------------------------------------------------


def test_relay_frames_carry_only_known_fields_and_from():
    offer = json.loads(relay_frame("offer", "me", {"to": "you", "sdp": "v=0"}))
    assert offer == {"type": "offer", "from": "me", "sdp": "v=0"}
    candidate = json.loads(relay_frame("candidate", "me", {"to": "you", "candidate": None}))
    assert candidate == {"type": "candidate", "from": "me", "candidate": None}


def test_error_frame():
    assert json.loads(error_frame(ErrorCode.UNKNOWN_PEER, "No peer x.", "17")) == {
        "type": "error", "code": "unknown-peer", "message": "No peer x.", "ref": "17",
    }  # fmt: skip
    assert "ref" not in json.loads(error_frame(ErrorCode.BAD_JSON, "Bad."))


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "join", "name": "\\ud800"}',
        '{"type": "offer", "to": "x", "sdp": "v=0\\udfff"}',
        '{"type": "offer", "to": "\\ud83d", "sdp": "v=0"}',
        '{"type": "candidate", "to": "x", "candidate": {"candidate": "\\ud800"}}',
        '{"type": "candidate", "to": "x", "candidate": {"candidate": "c", "sdpMid": "\\ud800"}}',
        '{"type": "kick", "peer": "\\udc00x"}',
        '{"type": "ping", "ref": "\\ud800"}',
    ],
)
def test_lone_surrogates_are_refused_before_they_can_break_a_relay(frame: str):
    assert refused(frame).code == ErrorCode.INVALID


def test_escaped_non_ascii_is_fine():
    message = parse('{"type": "join", "name": "\\ubbfc\\uc9c0 \\ud83c\\udfa5", "ref": "\\u00e9"}')
    assert message.fields["name"] == "민지 🎥"
    assert message.ref == "é"
