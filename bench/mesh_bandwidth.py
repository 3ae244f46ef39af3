"""Mesh bandwidth: what each sender really sends to each peer, against the budget.

    python bench/mesh_bandwidth.py --people 4 --reps 3

N people (4 by default) join one call in headless Chromium with fake camera
and microphone (loopback-only network namespace, as call_setup.py). After
``--settle`` seconds for bandwidth estimation to ramp up, every page's
``getStats()`` is read twice, ``--window`` seconds apart. For every sender and
every peer it sends to: outgoing video bitrate (outbound-rtp ``bytesSent``
delta, RTP payload only), frame size and rate, the encoder's target bitrate,
``qualityLimitationReason`` and where the window's limitation time went
(``qualityLimitationDurations`` deltas), next to the sender's own
``maxBitrate`` / ``scaleResolutionDownBy`` and the budget the client is meant
to apply (docs/call.md, "Video budget": split per receiver by the size each
shows us, never more than ``CALL_VIDEO_BUDGET_KBPS`` in all; the even split
``min(PER_PEER_MAX, CALL_VIDEO_BUDGET_KBPS / peers)`` until receivers report),
and each sender's total uplink against the budget.

Results: bench/results/mesh-bandwidth-*.json and a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import benchlib
import browserlib
from benchlib import fmt_spread, markdown_table, spread
from call_setup import Site, wait_frames

PER_PEER_MAX_KBPS = 1500  # rooms/callconfig.py PER_PEER_VIDEO_MAX_KBPS

SAMPLE_JS = """
async () => {
  const out = [];
  for (const pc of window.__bench.pcs) {
    if (pc.connectionState !== "connected") continue;
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
    const enc = sender ? (sender.getParameters().encodings || [])[0] || {} : {};
    const row = { pc: pc.__benchId, maxBitrate: enc.maxBitrate ?? null,
                  scale: enc.scaleResolutionDownBy ?? null, audioBytes: 0 };
    const stats = await pc.getStats();
    for (const r of stats.values()) {
      if (r.type === "outbound-rtp" && r.kind === "video") {
        Object.assign(row, {
          ts: r.timestamp, bytes: r.bytesSent, frames: r.framesEncoded,
          width: r.frameWidth ?? null, height: r.frameHeight ?? null,
          fps: r.framesPerSecond ?? null, target: r.targetBitrate ?? null,
          reason: r.qualityLimitationReason ?? null,
          durations: r.qualityLimitationDurations ?? {},
          encoder: r.encoderImplementation ?? null,
        });
      } else if (r.type === "outbound-rtp" && r.kind === "audio") {
        row.audioBytes += r.bytesSent;
      } else if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") {
        row.available = r.availableOutgoingBitrate ?? null;
      }
    }
    if (row.ts !== undefined) out.push(row);
  }
  return out;
}
"""


def budget_kbps(peers: int, budget: int) -> float:
    return min(PER_PEER_MAX_KBPS, budget / max(1, peers))


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def measure(site: Site, playwright, n: int, rep: int, args: argparse.Namespace) -> dict:
    extra = []
    if args.camera == "noise":
        width, height, fps = (int(v) for v in args.video.replace("@", "x").split("x"))
        clip = browserlib.noise_video(args.workdir / f"noise-{args.video}.y4m", width, height, fps)
        extra.append(f"--use-file-for-fake-video-capture={clip}")
    browser = browserlib.launch(playwright, extra_args=extra)
    contexts = []
    try:
        pages = []
        for member in range(n):
            context, page = site.open(browser, n, member, rep)
            contexts.append(context)
            page.evaluate("window.__bench.start()")
            page.click(site.join_selector)
            pages.append(page)
        for page in pages:
            wait_frames(page, n - 1, args.timeout)
            page.evaluate("window.__bench.stop()")
        time.sleep(args.settle)
        cpu0 = system_cpu()
        first = [page.evaluate(SAMPLE_JS) for page in pages]
        time.sleep(args.window)
        second = [page.evaluate(SAMPLE_JS) for page in pages]
        cpu1 = system_cpu()
    finally:
        for context in contexts:
            context.close()
        browser.close()

    peers = n - 1
    budget = budget_kbps(peers, args.budget)
    senders = []
    for index, (before, after) in enumerate(zip(first, second, strict=True)):
        old = {row["pc"]: row for row in before}
        links = []
        for row in after:
            prev = old.get(row["pc"])
            if prev is None or row["ts"] <= prev["ts"]:
                continue
            seconds = (row["ts"] - prev["ts"]) / 1000
            durations = {
                k: row["durations"].get(k, 0) - prev["durations"].get(k, 0)
                for k in row["durations"]
            }
            limited = {k: v for k, v in durations.items() if k != "none" and v > 0.05 * seconds}
            links.append(
                {
                    "video_kbps": (row["bytes"] - prev["bytes"]) * 8 / seconds / 1000,
                    "audio_kbps": (row["audioBytes"] - prev["audioBytes"]) * 8 / seconds / 1000,
                    "fps": (row["frames"] - prev["frames"]) / seconds,
                    "width": row["width"],
                    "height": row["height"],
                    "target_kbps": row["target"] / 1000 if row["target"] else None,
                    "available_kbps": row.get("available") / 1000 if row.get("available") else None,
                    "max_bitrate_kbps": row["maxBitrate"] / 1000 if row["maxBitrate"] else None,
                    "scale_down_by": row["scale"],
                    "quality_limitation_reason": row["reason"],
                    "limited_seconds": limited,
                    "encoder": row["encoder"],
                }
            )
        total = sum(link["video_kbps"] for link in links)
        senders.append({"sender": index, "links": links, "video_total_kbps": total})
    per_link = [link["video_kbps"] for s in senders for link in s["links"]]
    totals = [s["video_total_kbps"] for s in senders]
    reasons = Counter(link["quality_limitation_reason"] for s in senders for link in s["links"])
    busy = (cpu1[0] - cpu0[0]) / max(1, cpu1[1] - cpu0[1])
    return {
        "target": site.name,
        "people": n,
        "rep": rep,
        "budget_per_peer_kbps": budget,
        "budget_total_kbps": budget * peers,
        "per_peer_kbps_mean": statistics.fmean(per_link) if per_link else None,
        "per_peer_kbps_min": min(per_link) if per_link else None,
        "per_peer_kbps_max": max(per_link) if per_link else None,
        "total_kbps_mean": statistics.fmean(totals) if totals else None,
        "per_peer_of_budget": statistics.fmean(per_link) / budget if per_link else None,
        "quality_limitation_reasons": dict(reasons),
        "links": len(per_link),
        "machine_cpu_busy": busy,
        "senders": senders,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--targets", default="meet", help="meet, bare (the bare page uses the same "
                   "mesh.js, so the same budget)")  # fmt: skip
    p.add_argument("--people", type=int, default=4, choices=[2, 3, 4])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--settle", type=float, default=15, help="seconds before measuring")
    p.add_argument("--window", type=float, default=10, help="measured seconds")
    p.add_argument("--timeout", type=float, default=60, help="seconds for everyone to connect")
    p.add_argument("--video", default="1280x720@30", help="camera constraints (CALL_VIDEO)")
    p.add_argument("--budget", type=int, default=2500, help="CALL_VIDEO_BUDGET_KBPS")
    p.add_argument(
        "--camera",
        choices=["noise", "pattern"],
        default="noise",
        help="fake camera: random frames (every sender reaches its cap unless "
        "something else limits it) or Chromium's test pattern (compresses far below it)",
    )
    p.add_argument("--meet-join", default="#join-button", help="selector of meet's Join button")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    args.sizes = [args.people]
    return args


def main(argv: list[str] | None = None) -> int:
    browserlib.ensure_isolated()
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    workdir = browserlib.scratch("mesh-")
    args.workdir = workdir
    sites = {t: Site(t, args, workdir) for t in args.targets}
    runs = []
    started = time.monotonic()
    try:
        for site in sites.values():
            site.start()
        with sync_playwright() as playwright:
            for rep in range(args.reps):
                for t in args.targets:
                    print(f"  {t} {args.people} people, rep {rep}", file=sys.stderr, flush=True)
                    runs.append(measure(sites[t], playwright, args.people, rep, args))
    finally:
        for site in sites.values():
            site.stop()
    summary = {}
    for t in args.targets:
        mine = [r for r in runs if r["target"] == t]
        reasons: Counter = Counter()
        for r in mine:
            reasons.update(r["quality_limitation_reasons"])
        summary[t] = {
            key: spread(r[key] for r in mine)
            for key in (
                "per_peer_kbps_mean",
                "per_peer_kbps_min",
                "per_peer_kbps_max",
                "total_kbps_mean",
                "per_peer_of_budget",
                "machine_cpu_busy",
            )
        }
        summary[t]["budget_per_peer_kbps"] = mine[0]["budget_per_peer_kbps"] if mine else None
        summary[t]["quality_limitation_reasons"] = dict(reasons)
    config = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "workdir"
    }
    data = {
        "config": config,
        "wall_seconds": time.monotonic() - started,
        "runs": runs,
        "summary": summary,
    }
    path = benchlib.write_result("mesh-bandwidth", data, args.out)
    rows = []
    for t in args.targets:
        s = summary[t]
        rows.append(
            [
                t,
                str(args.people),
                fmt_spread(s["per_peer_kbps_mean"], 0),
                " / ".join(fmt_spread(s[k], 0) for k in ("per_peer_kbps_min", "per_peer_kbps_max")),
                fmt_spread(s["total_kbps_mean"], 0),
                benchlib.fmt(s["budget_per_peer_kbps"], 0),
                fmt_spread(s["per_peer_of_budget"], 2),
                ", ".join(f"{k}: {v}" for k, v in s["quality_limitation_reasons"].items()),
                fmt_spread(s["machine_cpu_busy"], 2),
            ]
        )
    header = [
        "target",
        "people",
        "video kbit/s per peer (mean)",
        "lowest / highest link",
        "video kbit/s per sender (total)",
        "budget per peer",
        "mean ÷ budget",
        "qualityLimitationReason (links)",
        "machine CPU busy",
    ]
    print(markdown_table(header, rows))
    print(f"\nresult: {path}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
