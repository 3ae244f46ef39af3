"""Every benchmark script still runs: each in a tiny size, a few seconds.

Benchmarks are not tests: nothing here looks at a time or a rate, only that a
result file came out with the fields the docs/benchmarks.md tables are built
from. The scripts are run as a person would run them (a subprocess each).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

pytestmark = pytest.mark.multiprocess


def run(script: str, out: Path, *args: str, timeout: float = 110) -> dict:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--out", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    for key in ("benchmark", "date", "machine", "config", "runs", "summary"):
        assert key in data
    assert "| " in proc.stdout  # the Markdown table
    return data


TINY_SIGNALING = [
    "--reps", "1", "--size", "4", "--rate", "80", "--rooms", "1",
    "--duration", "1", "--warmup", "0.3", "--sat-rooms", "1", "--window", "2",
    "--storm", "8", "--idle", "8", "--idle-seconds", "0.5",
    "--unicast-rooms", "1", "--unicast-rates", "40,80", "--unicast-cpu-rate", "40",
    "--step-seconds", "0.5", "--step-warmup", "0.2",
]  # fmt: skip


def check_signaling(data: dict, targets: list[str]) -> None:
    assert [r["target"] for r in data["runs"]] == targets
    for r in data["runs"]:
        assert r["idle"]["sockets"] == 8
        assert r["idle"]["sockets_open_at_end"] == 8
        assert r["storm"]["ok"] == 8, r["storm"]["failures"]
        for phase in ("fixed", "saturate"):
            result = r[phase]
            assert result["delivered"] > 0
            assert result["lost"] == 0
            assert result["errors"] == {}
            assert result["p50_ms"] is not None
            assert result["server_cpu_cores"] >= 0
        unicast = r["unicast"]
        assert unicast["steps"], unicast
        assert unicast["steps"][0]["delivered"] > 0
        assert unicast["server_cpu_us_per_msg_at_cpu_rate"] is not None
        assert r["idle"]["join_cpu_ms"] >= 0
    for name in targets:
        assert data["summary"][name]["fixed.p99_ms"]["n"] == 1
        if name == "meet-memory":  # the aims, against the bare relays of the run
            assert data["summary"][name]["goals"]


def test_signaling_load_bare_python(tmp_path: Path) -> None:
    data = run(
        "signaling_load.py", tmp_path / "s.json", "--targets", "bare-python", *TINY_SIGNALING
    )
    check_signaling(data, ["bare-python"])


def test_signaling_load_bare_node(tmp_path: Path) -> None:
    # The Socket.IO relay's packages are installed by `make install-dev`
    # (npm ci in bench/node), outside the network namespace this runs in.
    assert (BENCH / "node" / "node_modules" / "socket.io").is_dir(), "run: make install-dev"
    data = run("signaling_load.py", tmp_path / "s.json", "--targets", "bare-node", *TINY_SIGNALING)
    check_signaling(data, ["bare-node"])


def test_signaling_load_meet_memory(tmp_path: Path) -> None:
    targets = ["meet-memory", "bare-python"]
    data = run(
        "signaling_load.py", tmp_path / "s.json", "--targets", ",".join(targets), *TINY_SIGNALING
    )
    check_signaling(data, targets)
    assert "ratio_to_bare-python" in data["summary"]["meet-memory"]


@pytest.mark.redis
def test_signaling_load_meet_redis(tmp_path: Path) -> None:
    targets = ["meet-redis-core", "meet-redis-pubsub-2proc"]
    data = run(
        "signaling_load.py", tmp_path / "s.json", "--targets", ",".join(targets), *TINY_SIGNALING
    )
    check_signaling(data, targets)


def test_call_setup(tmp_path: Path) -> None:
    targets = "meet,bare"
    data = run(
        "call_setup.py", tmp_path / "c.json", "--targets", targets,
        "--sizes", "2", "--joins", "1", "--warmup", "0", "--reps", "1", "--settle", "0.2",
        "--video", "320x180@15",
    )  # fmt: skip
    for r in data["runs"]:
        assert r["errors"] == []
        assert r["joins"] == 1
        sample = r["samples"][0]
        assert sample["total_ms"] > 0
        for step in ("welcome", "offers_sent", "answers_received", "ice_connected"):
            assert sample["steps"][step] is not None, (r["target"], step, sample["marks"])


def test_mesh_bandwidth(tmp_path: Path) -> None:
    data = run(
        "mesh_bandwidth.py", tmp_path / "m.json", "--targets", "meet,bare",
        "--people", "2", "--reps", "1", "--settle", "1", "--window", "1",
        "--video", "320x180@15",
    )  # fmt: skip
    for r in data["runs"]:
        assert r["links"] == 2
        link = r["senders"][0]["links"][0]
        assert link["video_kbps"] > 0
        assert "quality_limitation_reason" in link
