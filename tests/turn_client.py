"""A minimal TURN client over UDP, for asking a real coturn what it allows.

Only what the tests need from RFC 5766/8656: Allocate, Refresh and
CreatePermission with long-term credentials (the REST credentials meet
mints). CreatePermission sends nothing to the peer, so asking about any
address is safe inside the tests' loopback-only network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import socket
import struct

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION = 0x003, 0x004, 0x008
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
XOR_PEER_ADDRESS, REALM, NONCE, REQUESTED_TRANSPORT = 0x0012, 0x0014, 0x0015, 0x0019
UDP = bytes([17, 0, 0, 0])
SUCCESS, ERROR = 0x0100, 0x0110


def _attributes(attributes: list[tuple[int, bytes]]) -> bytes:
    return b"".join(
        struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)
        for kind, value in attributes
    )


def xor_peer_address(ip: str, port: int = 9) -> bytes:
    """XOR-PEER-ADDRESS for an IPv4 peer."""
    packed = ipaddress.IPv4Address(ip).packed
    cookie = struct.pack("!I", MAGIC)
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + bytes(
        a ^ b for a, b in zip(packed, cookie, strict=True)
    )


class TurnClient:
    """One 5-tuple, so at most one allocation; ``close()`` when done."""

    def __init__(self, port: int, username: str, password: str, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(5)
        self.sock.connect((host, port))
        self.username = username
        self.password = password
        self.realm: bytes | None = None
        self.nonce: bytes = b""
        self.allocated = False

    def close(self) -> None:
        """Give the allocation back (a closed socket would hold its relay port
        for the allocation's lifetime)."""
        if self.allocated:
            self.refresh(lifetime=0)
        self.sock.close()

    def _send(
        self, method: int, attributes: list[tuple[int, bytes]]
    ) -> tuple[int, dict[int, bytes]]:
        transaction = os.urandom(12)
        body = list(attributes)
        key = None
        if self.realm is not None:
            body += [(USERNAME, self.username.encode()), (REALM, self.realm), (NONCE, self.nonce)]
            secret = f"{self.username}:{self.realm.decode()}:{self.password}".encode()
            key = hashlib.md5(secret).digest()  # noqa: S324 (STUN long-term credentials are MD5)
        data = _attributes(body)
        if key is not None:
            header = struct.pack("!HHI", method, len(data) + 24, MAGIC) + transaction
            digest = hmac.new(key, header + data, hashlib.sha1).digest()
            data += struct.pack("!HH", MESSAGE_INTEGRITY, 20) + digest
        self.sock.send(struct.pack("!HHI", method, len(data), MAGIC) + transaction + data)
        while True:
            reply = self.sock.recv(4096)
            if reply[8:20] == transaction:
                break
        kind, length = struct.unpack("!HH", reply[:4])
        answer: dict[int, bytes] = {}
        offset = 20
        while offset < 20 + length:
            attribute, size = struct.unpack("!HH", reply[offset : offset + 4])
            answer[attribute] = reply[offset + 4 : offset + 4 + size]
            offset += 4 + size + (-size % 4)
        if kind & ERROR == SUCCESS:
            return 200, answer
        error = answer[ERROR_CODE]
        return (error[2] & 7) * 100 + error[3], answer

    def request(self, method: int, attributes: list[tuple[int, bytes]] | None = None) -> int:
        """Send a request, authenticating when asked to; the response code
        (200 for success, else the STUN error code: 401, 403, 486...)."""
        code, answer = self._send(method, attributes or [])
        # 401 with a realm and nonce is the challenge (438: the nonce went stale).
        if code in (401, 438) and REALM in answer and NONCE in answer:
            first_try = self.realm is None
            self.realm, self.nonce = answer[REALM], answer[NONCE]
            if first_try or code == 438:
                code, answer = self._send(method, attributes or [])
        return code

    def allocate(self) -> int:
        code = self.request(ALLOCATE, [(REQUESTED_TRANSPORT, UDP)])
        self.allocated = code == 200
        return code

    def refresh(self, lifetime: int = 600) -> int:
        return self.request(REFRESH, [(LIFETIME, struct.pack("!I", lifetime))])

    def permit(self, ip: str) -> int:
        """CreatePermission for ``ip``: 200, or 403 when coturn refuses that peer."""
        return self.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, xor_peer_address(ip))])
