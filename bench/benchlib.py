"""Shared pieces of the benchmark scripts: servers, statistics, /proc sampling, output.

Every script in bench/ starts the servers it measures itself (on free loopback
ports), writes one JSON file into bench/results/ and prints a Markdown table.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.servers import DaphneServer, RedisServer, ServerProcess  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- statistics ---------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def spread(values: Iterable[float | None]) -> dict[str, float | None]:
    """min / median / max across repetitions (None values are skipped)."""
    present = [v for v in values if v is not None]
    if not present:
        return {"min": None, "median": None, "max": None, "n": 0}
    return {
        "min": min(present),
        "median": statistics.median(present),
        "max": max(present),
        "n": len(present),
    }


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_spread(s: dict, digits: int = 1) -> str:
    """'median (min–max)' for a table cell."""
    if not s or s.get("median") is None:
        return "–"
    if s["n"] == 1:
        return fmt(s["median"], digits)
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}–{fmt(s['max'], digits)})"


# --- /proc sampling -----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was
    full (TcpExt ListenOverflows + ListenDrops, this network namespace)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0)) + int(table.get("ListenDrops", 0))
    return 0


class CpuMeter:
    """CPU used by some processes between start() and stop(), in cores (1.0 = one core busy)."""

    def __init__(self, pids: Sequence[int], own: bool = False) -> None:
        self.pids = list(pids)
        self.own = own

    def _now(self) -> float:
        total = sum(cpu_seconds(pid) for pid in self.pids)
        return total + (self_cpu_seconds() if self.own else 0.0)

    def start(self) -> CpuMeter:
        self.t0 = time.monotonic()
        self.c0 = self._now()
        return self

    def stop(self) -> float:
        wall = time.monotonic() - self.t0
        return (self._now() - self.c0) / wall if wall > 0 else 0.0


# --- machine and run description ---------------------------------------------------------


def _cmd(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info() -> dict:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "memory_bytes": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": _cmd(["node", "--version"]),
        "chromium": _cmd([os.environ.get("CHROMIUM_PATH") or "chromium", "--version"]),
        "loadavg_at_start": load,
    }


def git_commit() -> str | None:
    return _cmd(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])


def write_result(name: str, data: dict, out: Path | None = None) -> Path:
    """Write a result JSON (adds date, machine, commit) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    data = {
        "benchmark": name,
        "date": now.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine_info(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        **data,
    }
    path = out or RESULTS / f"{name}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- servers --------------------------------------------------------------------------


def raise_fd_limit() -> None:
    """Many sockets on both ends: lift the soft open-files limit to the hard one
    (servers started afterwards inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin(cpus: str | None) -> list[str]:
    """Command prefix pinning a process to some CPUs ('0', '0,1'), or nothing."""
    if not cpus or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", cpus]


def pin_self(cpus: str | None) -> None:
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})


class PinnedDaphne(DaphneServer):
    """daphne as docs/deployment.md runs it: ``-v 0``, so without its access
    log (two unbuffered lines per socket on standard output; the uvicorn
    target runs with ``--no-access-log``). meet's own logs are as always."""

    def __init__(self, *args, cpus: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cpus = cpus

    def command(self) -> list[str]:
        *options, application = super().command()
        return [*pin(self.cpus), *options, "-v", "0", application]


class PinnedUvicorn(PinnedDaphne):
    """The same ASGI application under uvicorn with the ``websockets`` (sans-I/O)
    WebSocket implementation and the stock asyncio loop (as the bare relay)."""

    name = "uvicorn"

    def command(self) -> list[str]:
        return [
            *pin(self.cpus),
            sys.executable, "-m", "uvicorn", "meet.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--ws", "websockets-sansio", "--loop", "asyncio", "--http", "h11",
            "--lifespan", "off", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip


class PinnedRedis(RedisServer):
    def __init__(self, *args, cpus: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cpus = cpus

    def command(self) -> list[str]:
        return pin(self.cpus) + super().command()


class BareRelay(ServerProcess):
    """bench/relays/bare_relay.py: the minimal Python ``websockets`` relay."""

    name = "bare-python"

    def __init__(self, workdir: Path, port: int | None = None, cpus: str | None = None) -> None:
        super().__init__(workdir, port)
        self.cpus = cpus

    def command(self) -> list[str]:
        script = BENCH / "relays" / "bare_relay.py"
        return [*pin(self.cpus), sys.executable, str(script), "--port", str(self.port)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


NODE_DIR = BENCH / "node"


def ensure_node_modules() -> None:
    """``npm ci`` the Socket.IO relay's dependencies when they are missing or stale."""
    modules = NODE_DIR / "node_modules"
    stamp = modules / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    if not shutil.which("npm"):
        raise RuntimeError("npm is needed for the bare-node target (Node.js 18+).")
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True
    )


class NodeRelay(ServerProcess):
    """bench/node/relay.js: a minimal Socket.IO relay like the tutorials'."""

    name = "bare-node"

    def __init__(self, workdir: Path, port: int | None = None, cpus: str | None = None) -> None:
        super().__init__(workdir, port)
        self.cpus = cpus

    def command(self) -> list[str]:
        return [*pin(self.cpus), "node", str(NODE_DIR / "relay.js"), "--port", str(self.port)]

    def start(self) -> NodeRelay:
        ensure_node_modules()
        super().start()
        return self

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


# --- meet: a database with users, rooms and real sessions ------------------------------------


def meet_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(ROOT)
    return env


def prepare_meet_database(workdir: Path, pools: dict[str, tuple[int, int]]) -> dict:
    """Create a fresh SQLite database (``manage.py migrate``) with, for each pool
    ``name: (rooms, size)``, that many rooms of ``size`` members, each member a
    user with a signed-in session. Returns ``{"database_url", "cookie", "pools": {name:
    [{"slug", "members": [{"user", "session"}]}]}}``."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "bench.sqlite3"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    env = meet_env(url)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    spec = workdir / "pools.json"
    spec.write_text(json.dumps(pools))
    out = workdir / "fixture.json"
    subprocess.run(
        [sys.executable, str(BENCH / "meet_fixture.py"), str(spec), str(out)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return {"database_url": url, **json.loads(out.read_text())}


def scratch_dir(prefix: str) -> Path:
    base = ROOT / "test-artifacts"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
