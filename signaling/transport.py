"""What meet asks of daphne's WebSocket protocol (autobahn on Twisted), which
daphne has no settings for.

- **One frame limit.** The protocol's ``MAX_FRAME`` is daphne's message and
  frame size limit too, and a larger frame is refused with the protocol's
  close code 4413 (autobahn's own is 1009, at daphne's default of 1 MiB), as
  soon as its header arrives: the frame is never buffered, so an 8 MiB frame
  costs the server nothing, and the consumer is told the 4413 at once, so
  the seat is given up even when the client, still sending, never answers
  the close.
- **A bound on what waits for a client that does not read.** daphne never
  makes the application wait for a slow socket: Twisted buffers whatever is
  written. Once Twisted reports the socket's buffer full (its producer
  paused) and more than ``MAX_QUEUE`` bytes more were written, the connection
  is closed with 4408, like a missed heartbeat.
- **Text frames written directly.** Every relayed message is one unmasked,
  uncompressed text frame; autobahn builds it through ``sendMessage``,
  ``sendFrame`` and ``sendData``, which check arguments, pack the header a
  byte at a time and format debug-log arguments (``hltype``/``hlval``) on
  every frame even with debug logging off. When nothing makes that path
  differ (the connection open, no compression, fragmentation, masking,
  frame logging or queued writes), ``serverSend`` writes the same bytes and
  counts the same traffic statistics itself; otherwise autobahn's path runs.
- **Written at once when nothing waits.** Twisted's ``write`` only buffers:
  it registers the socket for writing with the event loop, and the loop's
  next turn sends the bytes and unregisters it again: two ``epoll_ctl``
  calls and a pass through Twisted's logging context for every frame. When
  the connection's buffer is empty, a frame is sent on the socket directly
  (what asyncio's own transports do); only what the kernel does not take
  at once is handed to Twisted's buffer, so order, the producer pause that
  the 4408 bound watches, and error handling stay Twisted's. The same holds
  for what autobahn writes itself (``sendData``: the handshake's reply,
  control frames), without its eagerly formatted debug log call.
- **Plain text frames read directly.** Every message a browser sends is one
  final, masked text frame. autobahn reads each through a state machine: a
  frame header object, an unmasker object and nine hooks (frame begin,
  data, end; message begin, frame begin, data, end, message end). When the
  buffer starts with a whole such frame and nothing makes autobahn's path
  differ, ``processData`` unmasks it and hands it on itself, with the same
  statistics; a partial frame, a control frame, a fragment, a frame over
  the limit or any protocol violation is autobahn's. autobahn's
  ``dataReceived`` also formats the arguments of a debug log call (four
  ``click.style`` calls) on every read, whatever the log level; meet's
  makes no such call.
- **Reads without Twisted's log context.** Twisted's asyncio reactor runs
  every read inside a log context that only labels Twisted's own legacy log
  lines; once a socket is open its reads are registered without it
  (``read_directly``).
- **One UTF-8 check and no event per received message.** daphne decodes
  every text message itself; autobahn validates it as UTF-8 first, and then
  fires a "message" event (a Deferred and its callbacks) that nothing
  listens to. Here the decode is the check (a text frame that is not
  UTF-8 is closed with the protocol's 4400, where autobahn would drop the
  connection without a code), and the event is fired only if something
  listens.
- **Nothing of the handshake kept once open.** autobahn keeps the parsed
  request and its reply, daphne the request object, and Twisted the HTTP
  request that carried the upgrade (its channel stays the socket's
  producer) for as long as the socket lives; once open, only the path
  daphne logs is kept. daphne's per-connection ``asyncio.Queue`` (four
  empty deques) is ``signaling.inbox.Inbox``, and autobahn's send queue is
  made only when a write has to queue. About 6 KiB less per idle socket.
  The inbox is also the application's way out for text frames
  (``Inbox.write_text``): what daphne's ``send`` coroutine does with one,
  called directly.
- **Options on the class, not on every connection.** autobahn copies some
  forty options from the factory into every connection's ``__dict__``; they
  are the same for all, so they are set once on the class, and autobahn's
  per-connection loop over them (which then copies nothing, but builds and
  pretty-prints the list of all forty for a debug log call) is skipped.

``install`` runs when Django starts (``SignalingConfig.ready``), before daphne
builds its factory. ``tests/multiprocess/test_limits.py`` holds the limits
and the UTF-8 close against a real daphne; ``signaling/tests/test_transport.py``
holds the frames byte for byte against autobahn's and pins the daphne and
autobahn methods this relies on.
"""

from __future__ import annotations

import logging
import struct
import time
from collections import deque
from typing import Any

from django.conf import settings
from twisted.internet.tcp import Server as TCPServer

from . import inbox
from .protocol import CloseCode

logger = logging.getLogger(__name__)

# What this module overrides or calls, by parameter names, and the versions
# it was written against: signaling/tests/test_transport.py fails when an
# upgrade changes either, so that the overrides are looked at again.
RELIES_ON = {
    "daphne.ws_protocol.WebSocketProtocol.serverSend": ("self", "content", "binary"),
    "autobahn.websocket.protocol.WebSocketProtocol._max_message_size_exceeded": (
        "self", "msg_size", "max_msg_size", "reason",
    ),
    "autobahn.websocket.protocol.WebSocketProtocol._fail_connection": ("self", "code", "reason"),
    "autobahn.websocket.protocol.WebSocketProtocol.sendCloseFrame": (
        "self", "code", "reasonUtf8", "isReply",
    ),
    "autobahn.websocket.protocol.WebSocketServerProtocol._connectionMade": ("self",),
    "autobahn.websocket.protocol.WebSocketProtocol._connectionMade": ("self",),
    # What dataReceived skips (autobahn's debug log call) and calls.
    "autobahn.twisted.websocket.WebSocketAdapterProtocol.dataReceived": ("self", "data"),
    "autobahn.websocket.protocol.WebSocketProtocol._dataReceived": ("self", "data"),
    # What onOpen lets go of, and where (and signaling.inbox's create_application).
    "daphne.ws_protocol.WebSocketProtocol.onOpen": ("self",),
    "daphne.ws_protocol.WebSocketProtocol.onConnect": ("self", "request"),
    "daphne.server.Server.create_application": ("self", "protocol", "scope"),
    # What signaling.inbox's write_text does for a text frame, without the coroutine.
    "daphne.server.Server.handle_reply": ("self", "protocol", "message"),
    "daphne.ws_protocol.WebSocketProtocol.handle_reply": ("self", "message"),
    "twisted.web.http.HTTPChannel.requestDone": ("self", "request"),
    # What text_frame reproduces and send_text skips (and the state it checks).
    "autobahn.websocket.protocol.WebSocketProtocol.sendMessage": (
        "self", "payload", "isBinary", "fragmentSize", "sync", "doNotCompress",
    ),
    "autobahn.websocket.protocol.WebSocketProtocol.sendFrame": (
        "self", "opcode", "payload", "fin", "rsv", "mask", "payload_len", "chopsize", "sync",
    ),
    "autobahn.websocket.protocol.WebSocketProtocol.sendData": ("self", "data", "sync", "chopsize"),
    # What processData reproduces for a plain text frame, and what it checks.
    "autobahn.websocket.protocol.WebSocketProtocol.processData": ("self",),
    "autobahn.websocket.protocol.WebSocketProtocol.onFrameBegin": ("self",),
    "autobahn.websocket.protocol.WebSocketProtocol.onFrameData": ("self", "payload"),
    "autobahn.websocket.protocol.WebSocketProtocol.onFrameEnd": ("self",),
    "autobahn.websocket.protocol.WebSocketProtocol.consumeData": ("self",),
    # What onMessage and onMessageEnd replace.
    "daphne.ws_protocol.WebSocketProtocol.onMessage": ("self", "payload", "isBinary"),
    "autobahn.websocket.protocol.WebSocketProtocol.onMessageEnd": ("self",),
    # What read_directly registers instead of the asyncio reactor's callback.
    "twisted.internet.asyncioreactor.AsyncioSelectorReactor.addReader": ("self", "reader"),
    "twisted.internet.asyncioreactor.AsyncioSelectorReactor._readOrWrite": (
        "self", "selectable", "read",
    ),
    # What write_now reads of a TCP connection before it sends on its socket.
    "twisted.internet.abstract.FileDescriptor.write": ("self", "data"),
    "twisted.internet.abstract.FileDescriptor.doWrite": ("self",),
}  # fmt: skip
WRITTEN_FOR = {"daphne": "4.2.3", "autobahn": "26.11.1", "twisted": "26.10.0"}


def install() -> None:
    """Make daphne's WebSocket factory build ``MeetWebSocketProtocol``s."""
    try:
        from daphne import ws_protocol
    except ImportError:  # another ASGI server
        return
    if issubclass(ws_protocol.WebSocketFactory.protocol, _Marker):
        return
    ws_protocol.WebSocketFactory.protocol = _protocol_class(ws_protocol.WebSocketProtocol)
    from daphne.server import Server

    Server.create_application = inbox.create_application


class _Marker:
    pass


class _Opened:
    """daphne's ``request``, once open: only its ``path`` is read (for logs)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


HANDSHAKE_ONLY = (
    "http_request_data", "http_response_data", "http_status_line", "http_headers",
    "http_headers_cnt", "http_request_uri", "http_request_path", "http_request_params",
    "http_request_host", "websocket_protocols", "websocket_origin", "websocket_extensions",
    "application_deferred",
)  # fmt: skip


_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def write_now(transport: Any, data: bytes) -> None:
    """Write ``data`` to a Twisted TCP connection: straight onto its socket
    when nothing is buffered before it (the connection open, plain TCP, not
    closing), the rest, if any, through Twisted's buffer."""
    if (
        type(transport) is TCPServer
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport.TLS
        and not transport._tempDataLen
        and transport.offset == len(transport.dataBuffer)
    ):
        try:
            sent = transport.socket.send(data)
        except OSError:
            # Full (EAGAIN) or broken: Twisted's write meets the same and
            # buffers, or loses the connection, as it always does.
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


def read_directly(transport: Any) -> None:
    """Twisted's asyncio reactor registers each reader with the event loop
    as ``callWithLogger(reader, reactor._readOrWrite, reader, True)``: every
    read runs inside a log context (two dicts copied, a context pushed and
    popped) that only labels Twisted's own legacy log lines. Register the
    same read of ``transport`` without it (plain TCP on the asyncio reactor;
    anything else is left alone). Should Twisted stop and start reading
    again, it registers its own callback again."""
    reactor: Any = getattr(transport, "reactor", None)
    loop: Any = getattr(reactor, "_asyncioEventloop", None)
    if (
        type(transport) is not TCPServer
        or loop is None
        or transport.TLS
        or reactor._readers.get(transport) != transport.fileno()
    ):
        return
    loop.add_reader(transport.fileno(), reactor._readOrWrite, transport, True)


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked, uncompressed text frame (RFC 6455 section 5.2),
    byte for byte what autobahn's ``sendFrame(opcode=1, payload=...)`` writes
    for a server."""
    size = len(payload)
    if size <= 125:
        return _SHORT.pack(0x81, size) + payload
    if size <= 0xFFFF:
        return _MEDIUM.pack(0x81, 126, size) + payload
    return _LONG.pack(0x81, 127, size) + payload


def _protocol_class(base: type) -> type:
    max_frame = int(settings.SIGNALING["MAX_FRAME"])
    max_queue = int(settings.SIGNALING["MAX_QUEUE"])
    option_names: tuple[str, ...] = base.CONFIG_ATTRS  # type: ignore[attr-defined]

    class MeetWebSocketProtocol(base, _Marker):
        maxMessagePayloadSize = max_frame  # noqa: N815  (autobahn's names)
        maxFramePayloadSize = max_frame  # noqa: N815
        utf8validateIncoming = False  # noqa: N815  (onMessage's decode is the check)
        _options_copied = False
        stalled_bytes = 0
        request: Any  # daphne's (autobahn's ConnectionRequest), then _Opened
        send_queue: Any  # autobahn's deque, or () while nothing has queued

        def _connectionMade(self) -> None:  # noqa: N802
            cls = type(self)
            if not cls._options_copied:
                # What autobahn's own _connectionMade copies (what is not set yet).
                # Callables (perMessageCompressionAccept) stay plain functions.
                for name in option_names:
                    if not hasattr(cls, name):
                        value = getattr(self.factory, name)
                        setattr(cls, name, staticmethod(value) if callable(value) else value)
                # With every option on the class, autobahn's loop over them
                # would copy nothing; it would only build, and pformat for a
                # debug log call, a list of all forty on every connection.
                cls.CONFIG_ATTRS = ()
                cls._options_copied = True
            super()._connectionMade()
            self.send_queue = ()  # a deque (760 bytes) only when a write has to queue

        def dataReceived(self, data: bytes) -> None:  # noqa: N802
            # autobahn's, without its debug log call, whose arguments it
            # formats first whatever the log level (hltype, hlval: four
            # click.style calls for every read).
            self._dataReceived(data)

        def onOpen(self) -> None:  # noqa: N802
            super().onOpen()
            read_directly(self.transport)
            # What only the opening handshake needed (autobahn's parsed
            # request and its reply, daphne's request object, Twisted's HTTP
            # request that carried the upgrade): let go once the socket is open.
            for name in HANDSHAKE_ONLY:
                self.__dict__.pop(name, None)
            self.request = _Opened(self.request.path)
            channel = getattr(getattr(self.transport, "producer", None), "_channel", None)
            requests = getattr(channel, "requests", None)
            if requests:
                requests.clear()

        def sendData(  # noqa: N802
            self, data: bytes, sync: bool = False, chopsize: int | None = None
        ) -> None:
            """autobahn's (the handshake's reply, control frames, the frames
            send_text leaves to autobahn) written through write_now, without
            its eagerly formatted debug log call."""
            if sync or chopsize or self.send_queue or self.logOctets:
                if type(self.send_queue) is not deque:
                    self.send_queue = deque()
                super().sendData(data, sync, chopsize)
                return
            write_now(self.transport, data)
            if self.state == self.STATE_OPEN:
                self.trafficStats.outgoingOctetsWireLevel += len(data)
            elif self.state in (self.STATE_CONNECTING, self.STATE_PROXY_CONNECTING):
                self.trafficStats.preopenOutgoingOctetsWireLevel += len(data)

        def _max_message_size_exceeded(self, msg_size: int, max_msg_size: int, reason: str) -> None:
            # autobahn would drop the TCP connection (failByDrop) with 1009;
            # the protocol closes with 4413, and the rest of the frame is read
            # and thrown away (failedByMe) until the client answers the close.
            self.close_refusing(CloseCode.TOO_LARGE, b"frame too large")

        def close_refusing(self, code: CloseCode, reason: bytes) -> None:
            """Send the close ``code`` and throw away what the client sends
            until it answers (failedByMe). The consumer is told the code at
            once: a client busy sending the rest of an 8 MiB frame may answer
            only after autobahn's close-handshake timeout, which drops the
            connection (1006, a lost socket whose seat would be held for
            resuming); the seat is given up whatever the handshake does.
            daphne's own disconnect, when the connection ends, comes after
            the consumer has stopped and is ignored, as for 4408."""
            self.failedByMe = True
            if self.state == self.STATE_OPEN:
                told = {"type": "websocket.disconnect", "code": int(code)}
                self.application_queue.put_nowait(told)
                self.sendCloseFrame(int(code), reason, False)

        def processData(self) -> bool:  # noqa: N802
            """One complete, final, masked text frame at the start of the
            buffer, outside any other frame or message, no longer than the
            frame limit: unmasked and handed on as autobahn would (the same
            statistics, the same ping-timeout rule, then ``_onMessage``),
            without its per-frame state machine (a frame header object, a
            masker, nine hooks). Anything else, or anything in a state where
            autobahn would do more (not open, failing, compression, frame
            logging, timings, UTF-8 validation, masks off), is autobahn's."""
            data: bytes = self.data  # type: ignore[has-type]
            if (
                len(data) < 6
                or data[0] != 0x81  # FIN, no RSV bits, text
                or self.current_frame is not None
                or self.inside_message
                or self.state != self.STATE_OPEN
                or self.failedByMe
                or self._perMessageCompress is not None
                or self.logFrames
                or self.trackedTimings
                or self.utf8validateIncoming
                or not self.applyMask
            ):
                return bool(super().processData())
            second = data[1]
            size = second & 0x7F
            if second < 0x80 or size == 127:  # unmasked (a violation), or over 64 KiB
                return bool(super().processData())
            start = 6
            if size == 126:
                start = 8
                size = (data[2] << 8) | data[3] if len(data) >= 8 else 0
                if size < 126:  # incomplete header, or not the minimal encoding
                    return bool(super().processData())
            end = start + size
            if size > max_frame or len(data) < end:  # refused, or still arriving
                return bool(super().processData())
            mask = int.from_bytes((data[start - 4 : start] * ((size >> 2) + 1))[:size], "little")
            payload = (int.from_bytes(data[start:end], "little") ^ mask).to_bytes(size, "little")
            self.data = data[end:]
            stats = self.trafficStats
            stats.incomingOctetsWebSocketLevel += size
            stats.incomingOctetsAppLevel += size
            stats.incomingWebSocketFrames += 1
            stats.incomingWebSocketMessages += 1
            if self.autoPingTimeoutCall and self.autoPingRestartOnAnyTraffic:
                self._cancelAutoPingTimeoutCall()
            self._onMessage(payload, False)
            return len(self.data) > 0

        def onMessageEnd(self) -> None:  # noqa: N802
            if self._listeners is not None or self.trackedTimings:
                super().onMessageEnd()
                return
            # autobahn's, less the "message" event nothing listens to.
            parts: list[bytes] = self.message_data  # type: ignore[has-type]
            self.message_data = None
            if not self.failedByMe:
                self._onMessage(b"".join(parts), self.message_is_binary)

        def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
            if isBinary or self.muted:
                super().onMessage(payload, isBinary)
                return
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                # A protocol violation like a binary frame: closed 4400 (its
                # seat given up), where autobahn's own check would drop the
                # TCP connection without a close code. Later frames are
                # thrown away (failedByMe) until the client answers the close.
                self.close_refusing(CloseCode.PROTOCOL, b"text is not UTF-8")
                return
            # daphne's onMessage for text, without its debug log call.
            self.last_ping = time.time()
            self.application_queue.put_nowait({"type": "websocket.receive", "text": text})

        def serverSend(self, content: Any, binary: bool = False) -> None:  # noqa: N802
            if getattr(self.transport, "producerPaused", False):
                self.stalled_bytes += len(content)
                if self.stalled_bytes > max_queue:
                    if self.state == self.STATE_OPEN:
                        logger.warning("signaling: closing a socket that stopped reading")
                        # The consumer learns why (its client will never answer the close).
                        self.application_queue.put_nowait(
                            {"type": "websocket.disconnect", "code": int(CloseCode.TIMEOUT)}
                        )
                        self._fail_connection(int(CloseCode.TIMEOUT), "could not keep up")
                    return
            elif self.stalled_bytes:
                self.stalled_bytes = 0
            if binary or not self.send_text(content):
                super().serverSend(content, binary)

        def send_text(self, content: str) -> bool:
            """Write ``content`` as one text frame, as autobahn would; False
            (nothing written) when autobahn's own path has to run."""
            if (
                self.state != self.STATE_OPEN
                or self._perMessageCompress is not None
                or self.send_queue
                or self.autoFragmentSize
                or self.maskServerFrames
                or self.logFrames
                or self.logOctets
                or self.trackedTimings
            ):
                return False
            payload = content.encode()
            size = len(payload)
            if size > max_frame:
                return False  # autobahn refuses it (PayloadExceededError)
            frame = text_frame(payload)
            write_now(self.transport, frame)
            stats = self.trafficStats
            stats.outgoingWebSocketMessages += 1
            stats.outgoingWebSocketFrames += 1
            stats.outgoingOctetsAppLevel += size
            stats.outgoingOctetsWebSocketLevel += size
            stats.outgoingOctetsWireLevel += len(frame)
            return True

    return MeetWebSocketProtocol
