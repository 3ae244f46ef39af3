"""A bare WebSocket signaling relay: the floor the benchmarks compare meet to.

It speaks the message shapes of docs/protocol.md for ``join`` / ``welcome`` /
``peer-joined`` / ``peer-left`` / ``offer`` / ``answer`` / ``candidate`` /
``ping`` so the same load client and the same page drive it, and does nothing
else: no authentication, no validation, no rate limit, presence is a dict.

Rooms are named by the path, ``/ws/rooms/<code>/``. A plain HTTP GET (no
``Upgrade`` header) is answered with a file, so the call-setup benchmark needs
no second server:

- ``/`` and ``/bench/<file>``: the minimal call page in ``bench/relays/page/``;
- ``/static/<path>``: the project's own ``static/`` folder (for ``peer.js``).

    python bench/relays/bare_relay.py --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import mimetypes
import secrets
import signal
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

ROOT = Path(__file__).resolve().parents[2]
PAGE_DIR = Path(__file__).resolve().parent / "page"
STATIC_DIR = ROOT / "static"
RELAYED = {"offer", "answer", "candidate"}

# room code -> {peer id -> peer record}
rooms: dict[str, dict[str, dict]] = {}
sockets: dict[str, ServerConnection] = {}


def _file_response(base: Path, relative: str) -> Response:
    path = (base / relative).resolve()
    if not path.is_relative_to(base.resolve()) or not path.is_file():
        return _response(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix in {".js", ".mjs"}:
        kind = "text/javascript"
    return _response(HTTPStatus.OK, path.read_bytes(), kind)


def _response(status: HTTPStatus, body: bytes, kind: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") else kind),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def process_request(connection: ServerConnection, request: Request) -> Response | None:
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return None
    path = request.path.split("?", 1)[0]
    if path == "/":
        return _file_response(PAGE_DIR, "index.html")
    if path.startswith("/bench/"):
        return _file_response(PAGE_DIR, path.removeprefix("/bench/"))
    if path.startswith("/static/"):
        return _file_response(STATIC_DIR, path.removeprefix("/static/"))
    return _response(HTTPStatus.NOT_FOUND, b"not found", "text/plain")


async def send(peer_id: str, message: dict) -> None:
    ws = sockets.get(peer_id)
    if ws is not None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps(message))


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request else "/"
    code = path.strip("/").removeprefix("ws/rooms/") or "default"
    me = secrets.token_urlsafe(9)
    room: dict[str, dict] | None = None
    try:
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind in RELAYED and room is not None:
                msg["from"] = me
                target = msg.pop("to", None)
                if target is not None:
                    await send(target, msg)
                else:
                    for other in list(room):
                        if other != me:
                            await send(other, msg)
            elif kind == "ping":
                await ws.send('{"type": "pong"}')
            elif kind == "join" and room is None:
                room = rooms.setdefault(code, {})
                record = {"peer": me, "name": msg.get("name", ""), "state": msg.get("state", {})}
                peers = [
                    {**other, "offer": True, "polite": me < other["peer"]}
                    for other in room.values()
                ]
                room[me] = record
                sockets[me] = ws
                await ws.send(
                    json.dumps({"type": "welcome", "peer": me, "peers": peers, "heartbeat": 10})
                )
                for other in list(room):
                    if other != me:
                        joined = {**record, "offer": False, "polite": other < me}
                        await send(other, {"type": "peer-joined", "peer": joined})
            elif kind == "leave":
                break
    except ConnectionClosed:
        pass
    finally:
        sockets.pop(me, None)
        if room is not None:
            room.pop(me, None)
            if not room:
                rooms.pop(code, None)
            for other in list(room):
                await send(other, {"type": "peer-left", "peer": me, "reason": "left"})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        args.host,
        args.port,
        process_request=process_request,
        compression=None,
        ping_interval=None,
        max_size=2**20,
    ):
        print(f"bare relay on http://{args.host}:{args.port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
