"""Chromium for the browser benchmarks: fake media, loopback WebRTC, and a
page-independent probe.

The probe (``PROBE_JS``) is added to every page before its own scripts run. It
wraps ``RTCPeerConnection`` to keep every connection the page makes, records a
``bench:click`` mark on every trusted click and ``bench:media`` when
getUserMedia resolves, and, when the harness turns it on,
polls ``getStats()`` every ``POLL_MS`` to mark ``bench:first-frame:<n>`` the
first time connection n has decoded a video frame. Both pages (meet's and the
bare one) are measured by this same code, so the comparison does not depend on
either page's own marks; those give the breakdown into steps.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import sys
from pathlib import Path

import benchlib

# As tests/browser/conftest.py: auto-grant camera and microphone, synthesize
# them, and gather loopback candidates (the only interface in the namespace).
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    # Background tabs must not be throttled: every participant is a tab.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
POLL_MS = 10

PROBE_JS = """
(() => {
  if (window.__bench) return;
  const Native = window.RTCPeerConnection;
  const pcs = [];
  const framed = new Map();   // pc number -> performance.now() of first decoded frame
  const bench = { pcs, framed, polling: false };
  window.__bench = bench;
  class Probed extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
      this.__benchId = pcs.length;
    }
  }
  window.RTCPeerConnection = Probed;
  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const gum = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (...args) => {
      const stream = await gum(...args);
      performance.mark("bench:media");
      return stream;
    };
  }
  addEventListener("click", (e) => { if (e.isTrusted) performance.mark("bench:click"); },
                   { capture: true });
  async function poll() {
    if (!bench.polling) return;
    await Promise.all(pcs.map(async (pc) => {
      if (framed.has(pc.__benchId) || pc.connectionState === "closed") return;
      const stats = await pc.getStats();
      for (const r of stats.values()) {
        if (r.type === "inbound-rtp" && r.kind === "video" && r.framesDecoded > 0) {
          if (!framed.has(pc.__benchId)) {
            framed.set(pc.__benchId, performance.now());
            performance.mark(`bench:first-frame:${pc.__benchId}`);
          }
        }
      }
    }));
    setTimeout(poll, POLL_MS);
  }
  bench.start = () => { if (!bench.polling) { bench.polling = true; poll(); } };
  bench.stop = () => { bench.polling = false; };
  bench.framedCount = () => pcs.filter(
      (pc) => framed.has(pc.__benchId) && pc.connectionState !== "closed").length;
  bench.marks = () => performance.getEntriesByType("mark").map(
      (m) => [m.name, m.startTime]);
})();
""".replace("POLL_MS", str(POLL_MS))


def chromium_executable() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


def in_loopback_namespace() -> bool:
    """True when this process's network namespace has no interface but ``lo``
    (asked of the kernel: /sys/class/net may show another namespace's)."""
    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def ensure_isolated() -> None:
    """Re-run this script inside a loopback-only network namespace
    (tests/isolated.sh) unless it already is in one."""
    if in_loopback_namespace() or os.environ.get("BENCH_NO_ISOLATION") == "1":
        return
    if os.environ.get("BENCH_ISOLATING") == "1":
        raise RuntimeError("tests/isolated.sh did not give a loopback-only namespace")
    os.environ["BENCH_ISOLATING"] = "1"
    script = benchlib.ROOT / "tests" / "isolated.sh"
    os.execv(str(script), [str(script), sys.executable, *sys.argv])  # noqa: S606


def launch(playwright, headless: bool = True, extra_args: list[str] | None = None):
    return playwright.chromium.launch(
        executable_path=chromium_executable(),
        args=CHROMIUM_ARGS + (extra_args or []),
        headless=headless,
    )


def noise_video(path: Path, width: int, height: int, fps: int, frames: int = 10) -> Path:
    """A Y4M file of random frames for ``--use-file-for-fake-video-capture``:
    content no encoder can compress, so every sender runs into its bitrate
    cap (Chromium's built-in test pattern compresses to a fraction of it)."""
    if path.exists():
        return path
    rng = random.Random(5)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n")
            f.write(rng.randbytes(width * height))  # Y
            f.write(rng.randbytes(width * height // 2))  # U and V, quarter size each
    return path


def marks_relative(marks: list[list], origin_name: str = "bench:click") -> dict[str, float]:
    """Marks as {name: ms after the origin mark} (the first occurrence of each name)."""
    out: dict[str, float] = {}
    for name, at in marks:
        out.setdefault(name, at)
    origin = out.get(origin_name)
    if origin is None:
        return {}
    return {name: at - origin for name, at in out.items()}


def group_steps(rel: dict[str, float]) -> dict[str, float | None]:
    """Per step, the time after the click when the last peer got there."""

    def last(prefix: str) -> float | None:
        values = [v for k, v in rel.items() if k.startswith(prefix)]
        return max(values) if values else None

    return {
        "media": rel.get("bench:media"),
        "ws_open": rel.get("meet:ws-open"),
        "join_sent": rel.get("meet:join-sent"),
        "welcome": rel.get("meet:welcome"),
        "offers_sent": last("meet:offer-sent:"),
        "answers_received": last("meet:answer:"),
        "ice_connected": last("meet:ice-connected:"),
        "first_frame_page": last("meet:first-frame:"),
        "first_frame": last("bench:first-frame:"),
    }


def scratch(prefix: str) -> Path:
    return benchlib.scratch_dir(prefix)
