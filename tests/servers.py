"""Real server processes for tests and benchmarks: daphne, redis-server, coturn.

Each class starts its program on a free loopback port, waits until it answers
(never a fixed sleep), and stops it with SIGTERM (SIGKILL after a grace
period). Output goes to a log file that is printed when startup fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_subprocess() -> str:
    """DATABASE_URL pointing a child process at the test database pytest-django made."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    host = conf["HOST"] or conf.get("OPTIONS", {}).get("host", "")
    auth = ""
    if conf["USER"]:
        auth = quote(conf["USER"], safe="")
        if conf["PASSWORD"]:
            auth += ":" + quote(conf["PASSWORD"], safe="")
        auth += "@"
    port = f":{conf['PORT']}" if conf["PORT"] else ""
    return f"postgres://{auth}{quote(host, safe='')}{port}/{conf['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{_tail(log)}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class ServerProcess:
    """A child process listening on ``self.port``; use as a context manager."""

    name = "server"
    startup_timeout = 20.0
    # The checkout the process runs from (the benchmarks can compare two).
    cwd = ROOT

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.log = self.workdir / f"{self.name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environ(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self) -> ServerProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self.environ(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_port(self.port, self.proc, self.startup_timeout, self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM, grace: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(grace)

    def kill(self) -> None:
        """Die without cleaning up, like a crashed process."""
        self.stop(signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisServer(ServerProcess):
    """A private redis-server that keeps nothing on disk; given ``replica_of``
    (a port), a replica of that one."""

    name = "redis"

    def __init__(self, workdir: Path, port: int | None = None, replica_of: int | None = None):
        super().__init__(workdir, port)
        self.replica_of = replica_of

    def command(self) -> list[str]:
        replica = ["--replicaof", "127.0.0.1", str(self.replica_of)] if self.replica_of else []
        return [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--daemonize", "no",
            *replica,
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class SentinelServer(ServerProcess):
    """``redis-server --sentinel`` watching one primary, with timers short enough
    for a test: the primary is declared down after ``down_after_ms``."""

    name = "sentinel"

    def __init__(
        self,
        workdir: Path,
        master_port: int,
        master_name: str = "meet",
        down_after_ms: int = 1000,
        port: int | None = None,
    ) -> None:
        super().__init__(workdir, port)
        self.master_port = master_port
        self.master_name = master_name
        self.down_after_ms = down_after_ms
        # Sentinel rewrites its configuration file, so each gets its own.
        self.conf = self.workdir / f"sentinel-{self.port}.conf"

    def command(self) -> list[str]:
        name = self.master_name
        self.conf.write_text(
            "\n".join(
                [
                    f"port {self.port}",
                    "bind 127.0.0.1",
                    "daemonize no",
                    f"dir {self.workdir}",
                    f"sentinel monitor {name} 127.0.0.1 {self.master_port} 1",
                    f"sentinel down-after-milliseconds {name} {self.down_after_ms}",
                    f"sentinel failover-timeout {name} 10000",
                    f"sentinel parallel-syncs {name} 1",
                    "",
                ]
            )
        )
        return ["redis-server", str(self.conf), "--sentinel"]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class DaphneServer(ServerProcess):
    """The real application in its own daphne process.

    ``env`` overrides settings through environment variables (``DATABASE_URL``,
    ``REDIS_URL``, ``TURN_SECRET``...), exactly as a deployment would.
    """

    name = "daphne"

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        settings: str = "tests.settings",
    ) -> None:
        super().__init__(workdir, port)
        self.extra_env = env or {}
        self.settings = settings

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "daphne",
            "-b", "127.0.0.1",
            "-p", str(self.port),
            "--application-close-timeout", "3",
            "meet.asgi:application",
        ]  # fmt: skip

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = self.settings
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


class CoturnServer(ServerProcess):
    """coturn with TURN REST credentials (``use-auth-secret``), loopback only."""

    name = "coturn"

    def __init__(self, workdir: Path, secret: str, port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.secret = secret

    def command(self) -> list[str]:
        return [
            "turnserver", "-n",
            "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}",
            "--min-port=49152", "--max-port=49500",
            "--use-auth-secret", f"--static-auth-secret={self.secret}",
            "--realm=test", "--no-tls", "--no-dtls", "--no-tcp-relay",
            # Only for this loopback test: production must keep loopback peers blocked.
            "--allow-loopback-peers",
            "--no-multicast-peers", "--no-cli", "--simple-log", "-v",
            f"--pidfile={self.workdir}/turn-{self.port}.pid",
            f"--db={self.workdir}/turndb-{self.port}",
            f"--log-file={self.workdir}/turn-{self.port}.log",
        ]  # fmt: skip

    def start(self) -> CoturnServer:
        # coturn listens on UDP and TCP; TCP answering means it is up.
        super().start()
        return self

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"
