"""The daphne and autobahn internals signaling.transport relies on are still
the ones it was written for (it overrides them; daphne has no settings)."""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from importlib.metadata import version
from typing import Any

import pytest
from daphne import ws_protocol

from signaling import transport


@pytest.mark.parametrize("dotted", sorted(transport.RELIES_ON))
def test_the_overridden_methods_keep_their_signatures(dotted: str):
    module_name, class_name, method = dotted.rsplit(".", 2)
    cls = getattr(importlib.import_module(module_name), class_name)
    parameters = tuple(inspect.signature(getattr(cls, method)).parameters)
    assert parameters == transport.RELIES_ON[dotted], f"{dotted} changed: re-check transport.py"


@pytest.mark.parametrize("package", sorted(transport.WRITTEN_FOR))
def test_daphne_and_autobahn_are_the_versions_transport_was_written_for(package: str):
    assert version(package) == transport.WRITTEN_FOR[package], (
        f"{package} was upgraded: check signaling/transport.py against it, then update WRITTEN_FOR"
    )


def test_daphnes_factory_builds_meets_protocol_with_the_protocols_frame_limit(settings):
    protocol = ws_protocol.WebSocketFactory.protocol
    assert issubclass(protocol, ws_protocol.WebSocketProtocol)
    assert protocol.maxMessagePayloadSize == settings.SIGNALING["MAX_FRAME"]
    assert protocol.maxFramePayloadSize == settings.SIGNALING["MAX_FRAME"]


class _Wire:
    """A transport that keeps each write apart (Twisted's StringTransport
    joins them; the tests count writes)."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def _open_protocol() -> tuple[Any, _Wire]:
    """meet's protocol class in the state of an open connection, without a
    handshake: the options autobahn copies from daphne's factory, as daphne
    sets them."""
    from collections import deque

    from autobahn.twisted.websocket import WebSocketServerFactory
    from autobahn.websocket.protocol import TrafficStats

    cls = ws_protocol.WebSocketFactory.protocol
    protocol = cls.__new__(cls)
    defaults = WebSocketServerFactory()
    for name in ws_protocol.WebSocketProtocol.CONFIG_ATTRS:
        if name not in vars(cls):
            setattr(protocol, name, getattr(defaults, name))
    protocol.factory = defaults
    protocol.state = cls.STATE_OPEN
    protocol._perMessageCompress = None
    protocol.send_queue = deque()
    protocol.trackedTimings = None
    protocol.trafficStats = TrafficStats()
    protocol.client_addr = ["127.0.0.1", 50000]
    protocol.transport = wire = _Wire()
    return protocol, wire


def _autobahns_frame(payload: bytes) -> tuple[bytes, dict[str, int]]:
    """What autobahn's sendMessage writes for a server's text message."""
    protocol, wire = _open_protocol()
    _use_autobahns_send_data(protocol)
    super(type(protocol), protocol).serverSend(payload.decode(), False)
    return b"".join(wire.written), vars(protocol.trafficStats)


def _use_autobahns_send_data(protocol: Any) -> None:
    from autobahn.websocket.protocol import WebSocketProtocol

    protocol.sendData = functools.partial(WebSocketProtocol.sendData, protocol)


@pytest.mark.parametrize("state", ["STATE_CONNECTING", "STATE_OPEN", "STATE_CLOSING"])
def test_autobahns_own_writes_are_its_bytes_and_statistics(state: str):
    """The handshake's reply, control frames: what sendData writes and counts."""
    ours, our_wire = _open_protocol()
    theirs, their_wire = _open_protocol()
    _use_autobahns_send_data(theirs)
    for protocol in (ours, theirs):
        protocol.state = getattr(protocol, state)
        protocol.sendData(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
        protocol.sendData(b"\x89\x00")
    assert our_wire.written == their_wire.written
    assert vars(ours.trafficStats) == vars(theirs.trafficStats)


def test_once_open_only_what_later_needs_is_kept_of_the_handshake():
    from types import SimpleNamespace

    protocol, _ = _open_protocol()
    logged = []
    protocol.server = SimpleNamespace(log_action=lambda *args: logged.append(args))
    protocol.request = SimpleNamespace(path="/ws/rooms/abc/", headers={"host": "x"})
    for name in transport.HANDSHAKE_ONLY:
        setattr(protocol, name, b"handshake")
    upgrade = SimpleNamespace(requestHeaders={b"cookie": [b"sessionid=secret"]})
    channel = SimpleNamespace(requests=[upgrade])
    protocol.transport.producer = SimpleNamespace(_channel=channel)

    protocol.onOpen()

    assert logged[0][2]["path"] == "/ws/rooms/abc/"  # daphne's log, as before
    assert not any(name in vars(protocol) for name in transport.HANDSHAKE_ONLY)
    assert protocol.request.path == "/ws/rooms/abc/"
    assert not hasattr(protocol.request, "headers")
    assert channel.requests == []  # Twisted's request that carried the upgrade


def test_queued_or_chopped_writes_keep_autobahns_path():
    protocol, wire = _open_protocol()
    protocol.send_queue = ()  # as after _connectionMade: no deque until one is needed
    triggered = []
    protocol._trigger = lambda: triggered.append(True)
    protocol.sendData(b"sync", sync=True)
    protocol.sendData(b"after")  # behind a queued write: queued too, in order
    protocol.sendData(b"chopped", chopsize=2)
    assert wire.written == []
    assert [data for data, _ in protocol.send_queue][:2] == [b"sync", b"after"]
    assert triggered


# Every header form: 7-bit length, 16-bit (126) and 64-bit (127), at their edges.
SIZES = [0, 1, 125, 126, 127, 0xFFFF, 0x10000]


@pytest.mark.parametrize("size", SIZES)
def test_a_text_frame_is_byte_for_byte_autobahns(size: int):
    expected, _ = _autobahns_frame(b"x" * size)
    assert transport.text_frame(b"x" * size) == expected


@pytest.mark.parametrize("size", [0, 125, 126, 0xFFFF, 0x10000])
def test_server_send_writes_autobahns_bytes_and_counts_its_statistics(size: int, settings):
    text = "가" * (size // 3) + "x" * (size % 3)  # three-byte characters, `size` bytes
    protocol, wire = _open_protocol()
    protocol.serverSend(text, False)
    expected, counts = _autobahns_frame(text.encode())
    assert wire.written == [expected]  # one write, autobahn's frame
    assert vars(protocol.trafficStats) == counts


def test_anything_autobahn_would_do_differently_takes_autobahns_path(settings):
    # Frame logging on: autobahn's sendFrame runs (and logs); the bytes are the same.
    protocol, wire = _open_protocol()
    protocol.logFrames = True
    calls = []
    protocol.logTxFrame = lambda *args: calls.append(args)
    protocol.serverSend("hello", False)
    assert calls
    assert b"".join(wire.written) == transport.text_frame(b"hello")

    # Larger than the frame limit: autobahn refuses it, as before.
    from autobahn.exception import PayloadExceededError

    protocol, wire = _open_protocol()
    with pytest.raises(PayloadExceededError):
        protocol.serverSend("x" * (settings.SIGNALING["MAX_FRAME"] + 1), False)
    assert wire.written == []

    # A closing connection: autobahn's sendMessage refuses to send.
    from autobahn.exception import Disconnected

    protocol, wire = _open_protocol()
    protocol.state = protocol.STATE_CLOSING
    with pytest.raises(Disconnected):
        protocol.serverSend("late", False)
    assert wire.written == []


class _Queue:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_nowait(self, item: dict[str, Any]) -> None:
        self.items.append(item)


def _receiving_protocol() -> tuple[Any, _Queue, list[int]]:
    protocol, _ = _open_protocol()
    protocol.muted = False
    protocol.failedByMe = False
    protocol.application_queue = queue = _Queue()
    closes: list[int] = []
    protocol.sendCloseFrame = lambda code, reason, is_reply: closes.append(code)
    return protocol, queue, closes


def test_a_text_message_reaches_the_application_decoded_once():
    protocol, queue, closes = _receiving_protocol()
    protocol.message_data = [b'{"type": "ping", "t": "', "가".encode(), b'"}']
    protocol.message_is_binary = False
    protocol.onMessageEnd()
    assert queue.items == [{"type": "websocket.receive", "text": '{"type": "ping", "t": "가"}'}]
    assert protocol.message_data is None
    assert closes == []


@pytest.mark.parametrize("broken", [b"\xc3\x28", b"ok \xff", "가".encode()[:2]])
def test_a_text_message_that_is_not_utf8_is_closed_4400_and_only_the_close_reaches_the_application(
    broken: bytes,
):
    assert ws_protocol.WebSocketFactory.protocol.utf8validateIncoming is False
    protocol, queue, closes = _receiving_protocol()
    for frame in (broken, b'{"type": "ping"}'):
        protocol.message_data = [frame]
        protocol.message_is_binary = False
        protocol.onMessageEnd()
    assert closes == [4400]
    # What follows is thrown away until the client answers the close; the
    # application is told the code at once, whatever the handshake does.
    assert protocol.failedByMe
    assert queue.items == [{"type": "websocket.disconnect", "code": 4400}]


def test_binary_messages_and_listeners_keep_daphnes_and_autobahns_paths():
    protocol, queue, _ = _receiving_protocol()
    protocol.onMessage(b"\xff\x00", True)
    assert queue.items == [{"type": "websocket.receive", "bytes": b"\xff\x00"}]

    heard: list[bytes] = []
    protocol._results = {}  # what a connection's construction sets up
    protocol.on("message", lambda payload, is_binary: heard.append(payload))
    protocol.message_data = [b"hi"]
    protocol.message_is_binary = False
    protocol.onMessageEnd()
    assert heard == [b"hi"]
    assert queue.items[-1] == {"type": "websocket.receive", "text": "hi"}


class _Reactor:
    """The event loop's side of a Twisted connection: which sockets wait to
    be written."""

    def __init__(self) -> None:
        self.writers: set[object] = set()

    def addReader(self, reader: object) -> None:  # noqa: N802  (Twisted's names)
        pass

    def addWriter(self, writer: object) -> None:  # noqa: N802
        self.writers.add(writer)

    def removeWriter(self, writer: object) -> None:  # noqa: N802
        self.writers.discard(writer)


@pytest.fixture
def connection():
    """A real Twisted TCP server connection over a socket pair, and the
    client's end of it."""
    import socket

    from twisted.internet import protocol, tcp

    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    reactor = _Reactor()
    server = tcp.Server(
        ours,
        protocol.Protocol(),  # type: ignore[arg-type]
        ("127.0.0.1", 50000),
        None,  # type: ignore[arg-type]
        1,
        reactor,  # type: ignore[arg-type]
    )
    yield server, theirs, reactor
    ours.close()
    theirs.close()


def _drain(sock: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return b"".join(chunks)
        chunks.append(chunk)


def test_a_frame_goes_straight_onto_an_idle_connections_socket(connection):
    server, client, reactor = connection
    transport.write_now(server, b"hello")
    assert _drain(client) == b"hello"
    assert reactor.writers == set()  # the loop was never asked to write


def test_behind_buffered_bytes_a_frame_waits_its_turn(connection):
    server, client, reactor = connection
    server.write(b"first ")  # Twisted's buffer, written on the loop's next turn
    transport.write_now(server, b"second")
    assert _drain(client) == b""
    assert reactor.writers == {server}
    server.doWrite()
    assert _drain(client) == b"first second"


def test_what_the_kernel_does_not_take_is_buffered_in_order_and_counts_for_the_pause(
    connection,
):
    server, client, reactor = connection
    paused = []

    class Producer:
        def pauseProducing(self) -> None:  # noqa: N802
            paused.append(True)

        def resumeProducing(self) -> None:  # noqa: N802
            pass

        def stopProducing(self) -> None:  # noqa: N802
            pass

    server.registerProducer(Producer(), True)
    frames = [bytes([index]) * 100_000 for index in range(40)]  # 4 MB: more than the socket holds
    for frame in frames:
        transport.write_now(server, frame)
    assert server in reactor.writers
    assert paused  # Twisted's buffer is over its size: the 4408 bound sees it
    received = [_drain(client)]
    while server in reactor.writers:
        server.doWrite()
        received.append(_drain(client))
    assert b"".join(received) == b"".join(frames)


def test_a_closing_connection_keeps_twisteds_path(connection):
    server, client, reactor = connection
    server.disconnecting = True
    transport.write_now(server, b"late")
    assert _drain(client) == b""
    assert reactor.writers == {server}


async def test_an_open_sockets_reads_run_outside_twisteds_log_context(connection):
    from twisted.python import context, log

    server, client, reactor = connection
    loop = asyncio.get_running_loop()
    fd = server.fileno()
    systems: list[str] = []
    read = asyncio.Event()

    def read_or_write(selectable: object, is_read: bool) -> None:
        assert (selectable, is_read) == (server, True)
        systems.append(context.get(log.ILogContext)["system"])
        loop.remove_reader(fd)
        read.set()

    # As the asyncio reactor has it: reading the socket, through its log context.
    reactor._asyncioEventloop = loop
    reactor._readers = {server: fd}
    reactor._readOrWrite = read_or_write
    loop.add_reader(fd, log.callWithLogger, server, read_or_write, server, True)
    transport.read_directly(server)
    client.send(b"x")
    await asyncio.wait_for(read.wait(), 5)
    assert systems == ["-"]  # Twisted's default: no context was entered


async def test_a_socket_another_reactor_reads_is_left_alone(connection):
    server, _, reactor = connection
    transport.read_directly(server)  # a reactor that is not asyncio's: nothing to do
    reactor._asyncioEventloop = asyncio.get_running_loop()
    reactor._readers = {}
    transport.read_directly(server)  # not reading it (paused, say): not registered
    assert not reactor._asyncioEventloop.remove_reader(server.fileno())


# --- Reading frames -------------------------------------------------------------------


def _client_frame(payload: bytes, *, opcode: int = 1, fin: bool = True, mask: bool = True) -> bytes:
    """A frame as a browser sends it (RFC 6455 section 5.2), masked."""
    import os
    import struct

    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    flag = 0x80 if mask else 0
    if size <= 125:
        header = struct.pack("!BB", first, flag | size)
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", first, flag | 126, size)
    else:
        header = struct.pack("!BBQ", first, flag | 127, size)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _reading_protocol(*, autobahns: bool) -> tuple[Any, _Queue, dict[str, list[Any]]]:
    """An open connection that reads with meet's processData, or autobahn's."""
    from autobahn.websocket.protocol import WebSocketProtocol

    protocol, queue, closes = _receiving_protocol()
    seen: dict[str, list[Any]] = {
        "closes": closes,
        "fails": [],
        "written": protocol.transport.written,
    }
    protocol.data = b""
    protocol.current_frame = None
    protocol.inside_message = False
    protocol.websocket_version = 13
    protocol.autoPingTimeoutCall = None
    protocol.autoPingPending = None
    protocol._fail_connection = lambda code, reason: seen["fails"].append(code)
    if autobahns:
        from autobahn.twisted.websocket import WebSocketAdapterProtocol

        protocol.peer = "tcp:127.0.0.1:50000"
        protocol.dataReceived = functools.partial(WebSocketAdapterProtocol.dataReceived, protocol)
        protocol.processData = functools.partial(WebSocketProtocol.processData, protocol)
    return protocol, queue, seen


def _read_both(chunks: list[bytes], autobahn_frames: list[int] | None = None) -> tuple[Any, Any]:
    """The same bytes read by meet's processData and by autobahn's: what
    reached the application, what was written or refused, the statistics.
    ``autobahn_frames`` gets how many frames autobahn's state machine read
    for meet's protocol."""
    outcomes = []
    for autobahns in (False, True):
        protocol, queue, seen = _reading_protocol(autobahns=autobahns)
        if not autobahns and autobahn_frames is not None:
            begin = protocol.onFrameBegin

            def counted_begin(begin=begin) -> None:
                autobahn_frames.append(1)
                begin()

            protocol.onFrameBegin = counted_begin
        for chunk in chunks:
            protocol.dataReceived(chunk)
        outcomes.append(
            (queue.items, seen, vars(protocol.trafficStats), protocol.data, protocol.failedByMe)
        )
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("size", [0, 1, 2, 125, 126, 127, 1000, 4096, 65535, 65536])
def test_a_text_frame_is_read_as_autobahn_reads_it(size: int):
    payload = ("x" * size).encode()
    by_autobahn: list[int] = []
    ours, theirs = _read_both([_client_frame(payload)], by_autobahn)
    assert ours == theirs
    assert ours[0] == [{"type": "websocket.receive", "text": payload.decode()}]
    # Up to 64 KiB (the 16-bit length): read without autobahn's state machine.
    assert len(by_autobahn) == (0 if size <= 0xFFFF else 1)


def test_a_read_formats_no_debug_log_arguments(monkeypatch: pytest.MonkeyPatch):
    from autobahn.twisted import websocket

    formatted: list[object] = []
    monkeypatch.setattr(websocket, "hltype", lambda obj: formatted.append(obj))
    monkeypatch.setattr(websocket, "hlval", lambda obj, **kw: formatted.append(obj))
    protocol, queue, _ = _reading_protocol(autobahns=False)
    protocol.dataReceived(_client_frame(b'{"type":"ping"}'))
    assert queue.items == [{"type": "websocket.receive", "text": '{"type":"ping"}'}]
    assert formatted == []


def _stream() -> bytes:
    """Text frames (one with Korean text) around a ping, a fragmented
    message and a binary frame, as one stream."""
    return b"".join(
        [
            _client_frame(b'{"type":"ping"}'),
            _client_frame('{"name":"민지"}'.encode()),
            _client_frame(b"hi", opcode=9),  # ping: answered with a pong
            _client_frame(b'{"type":', fin=False),
            _client_frame(b' "frag"}', opcode=0),
            _client_frame(b"\x00\xff", opcode=2),
            _client_frame(("y" * 3000).encode()),
            _client_frame(b""),
        ]
    )


@pytest.mark.parametrize("cut", ["whole", "byte by byte", "in 7-byte pieces"])
def test_a_stream_of_frames_is_read_as_autobahn_reads_it_however_it_arrives(cut: str):
    stream = _stream()
    step = {"whole": len(stream), "byte by byte": 1, "in 7-byte pieces": 7}[cut]
    chunks = [stream[i : i + step] for i in range(0, len(stream), step)]
    ours, theirs = _read_both(chunks)
    assert ours == theirs
    texts = [item.get("text") for item in ours[0]]
    assert texts == [
        '{"type":"ping"}', '{"name":"민지"}', '{"type": "frag"}', None, "y" * 3000, ""
    ]  # fmt: skip
    assert ours[1]["written"], "the ping was answered"


@pytest.mark.parametrize(
    "frame",
    [
        _client_frame(b'{"type":"ping"}', mask=False),  # unmasked: a violation
        b"\x81\xfe\x00\x05" + b"\x00" * 9,  # a 5-byte payload in the 16-bit length
        b"\xc1\x85" + b"\x00" * 9,  # an RSV bit without an extension
        _client_frame(b"\xc3\x28"),  # not UTF-8: 4400
        _client_frame(b"x" * (1 << 20)),  # over the frame limit: 4413 at the header
    ],
    ids=["unmasked", "non-minimal-length", "rsv", "not-utf8", "too-large"],
)
def test_a_frame_autobahn_refuses_is_refused_the_same_way(frame: bytes):
    ours, theirs = _read_both([frame + _client_frame(b'{"type":"ping"}')])
    assert ours == theirs
    assert ours[1]["closes"] or ours[1]["fails"]
