"""Realistic signaling payloads for the load client.

Sizes follow what Chromium sends for one audio + one video transceiver and the
chat data channel with BUNDLE: an offer of about 4.5 KB, an answer of about
3.5 KB (fewer codecs), and ICE candidates of about 100 bytes. The load client
puts a marker line (``a=x-bench:...``) into each SDP and a marker token into
each candidate string, which the relay passes through untouched.
"""

from __future__ import annotations

_VIDEO_CODECS = [
    (96, "VP8/90000", None),
    (97, "rtx/90000", "apt=96"),
    (98, "VP9/90000", "profile-id=0"),
    (99, "rtx/90000", "apt=98"),
    (100, "VP9/90000", "profile-id=2"),
    (101, "rtx/90000", "apt=100"),
    (
        102,
        "H264/90000",
        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
    ),
    (103, "rtx/90000", "apt=102"),
    (
        104,
        "H264/90000",
        "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
    ),
    (105, "rtx/90000", "apt=104"),
    (
        106,
        "H264/90000",
        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    ),
    (107, "rtx/90000", "apt=106"),
    (108, "AV1/90000", "level-idx=5;profile=0;tier=0"),
    (109, "rtx/90000", "apt=108"),
    (114, "red/90000", None),
    (115, "rtx/90000", "apt=114"),
    (116, "ulpfec/90000", None),
]
_FEEDBACK = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]


def _session(version: int) -> list[str]:
    return [
        "v=0",
        f"o=- 4611731400430051336 {version} IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1 2",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS 7d8a7b38-2b44-4f6b-a1a4-3c1f5f0e9a51",
    ]


def _transport(setup: str) -> list[str]:
    return [
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:aB3d",
        "a=ice-pwd:0p8Jc3Yk0H6bq0n1m3cH2s3Z",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(f"{(i * 37) % 256:02X}" for i in range(32)),
        f"a=setup:{setup}",
    ]


def _sdp(offer: bool) -> str:
    setup = "actpass" if offer else "active"
    codecs = _VIDEO_CODECS if offer else _VIDEO_CODECS[:6]
    lines = _session(2 if offer else 1)
    lines += ["m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", *_transport(setup)]
    lines += [
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:7d8a7b38-2b44-4f6b-a1a4-3c1f5f0e9a51 2f1c3d9e-5b0a-4e77-9c0e-1b2d3e4f5a6b",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:1234567890 cname:q3pT8xYz0aBcDeFg",
        "a=ssrc:1234567890 msid:7d8a7b38-2b44-4f6b-a1a4-3c1f5f0e9a51 "
        "2f1c3d9e-5b0a-4e77-9c0e-1b2d3e4f5a6b",
    ]
    lines += [
        "m=video 9 UDP/TLS/RTP/SAVPF " + " ".join(str(pt) for pt, _, _ in codecs),
        *_transport(setup),
        "a=mid:1",
        "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:13 urn:3gpp:video-orientation",
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
        "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
        "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
        "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:7d8a7b38-2b44-4f6b-a1a4-3c1f5f0e9a51 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        "a=rtcp-mux",
        "a=rtcp-rsize",
    ]
    for pt, name, fmtp in codecs:
        lines.append(f"a=rtpmap:{pt} {name}")
        if not name.startswith(("rtx", "red", "ulpfec")):
            lines += [f"a=rtcp-fb:{pt} {fb}" for fb in _FEEDBACK]
        if fmtp:
            lines.append(f"a=fmtp:{pt} {fmtp}")
    lines += [
        "a=ssrc-group:FID 2231627014 632943048",
        "a=ssrc:2231627014 cname:q3pT8xYz0aBcDeFg",
        "a=ssrc:632943048 cname:q3pT8xYz0aBcDeFg",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        *_transport(setup),
        "a=mid:2",
        "a=sctp-port:5000",
        "a=max-message-size:262144",
    ]
    return "\r\n".join(lines) + "\r\n"


OFFER_SDP = _sdp(offer=True)
ANSWER_SDP = _sdp(offer=False)
CANDIDATE = (
    "candidate:2937026158 1 udp 2122260223 127.0.0.1 50101 typ host "
    "generation 0 ufrag aB3d network-id 1"
)


def with_marker(sdp: str, marker: str) -> str:
    """The SDP with an ``a=`` marker line after the session lines."""
    head, sep, rest = sdp.partition("a=extmap-allow-mixed\r\n")
    return f"{head}{sep}a={marker}\r\n{rest}"
