"""Call setup in a real browser: meet against the bare relay and page.

    python bench/call_setup.py --sizes 2,3,4 --joins 10 --reps 3

Headless Chromium with fake camera and microphone, inside a loopback-only
network namespace (the script re-runs itself under tests/isolated.sh). For
each call size N, N-1 people are already in the call; then, ``--joins``
times, a newcomer opens the page (not timed), presses Join, and we time until
every remote video has decoded a frame (``framesDecoded > 0`` in getStats,
polled every 10 ms by the same probe on both pages), then the newcomer leaves.

The steps come from the pages' own ``performance.mark()`` entries
(docs/call.md): media acquired (from the probe; both pages open the camera
on the pre-join screen, so it is negative: before the click), WebSocket open
(also pre-connected), join sent, welcome received, all offers sent, all
answers received, ICE connected with every peer, and the probe's first
decoded frame. Each is
reported as p50/p95 of "ms after the click" over the joins of a repetition,
and min/median/max of those across repetitions.

Targets: ``meet`` (daphne, the in-memory channel layer, real sessions, the
call page of the rooms app) and ``bare`` (bench/relays/bare_relay.py and its
minimal page, same negotiation, no Django). The ratio meet ÷ bare is the
figure the issue asks for.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import time
from pathlib import Path

import benchlib
import browserlib
from benchlib import BareRelay, PinnedDaphne, fmt_spread, markdown_table, percentile, spread

STEPS = [
    "media",
    "ws_open",
    "join_sent",
    "welcome",
    "offers_sent",
    "answers_received",
    "ice_connected",
    "first_frame",
]

# meet's call page (templates/rooms/call.html): the pre-join form's submit
# button, enabled once the camera is open.
MEET_JOIN = "#join-button"
BARE_JOIN = "#join"


class Site:
    """One target: the server and how to open its call page as participant i."""

    def __init__(self, name: str, args: argparse.Namespace, workdir: Path) -> None:
        self.name = name
        self.args = args
        self.workdir = workdir
        self.server = None
        self.fixture: dict | None = None

    def start(self) -> None:
        if self.name == "bare":
            self.server = BareRelay(self.workdir / "bare").start()
            return
        pools = {f"call{n}": (1, n) for n in self.args.sizes}
        self.fixture = benchlib.prepare_meet_database(self.workdir / "meet", pools)
        env = {"DATABASE_URL": self.fixture["database_url"], "LOG_LEVEL": "WARNING"}
        env["CALL_VIDEO"] = self.args.video
        env["CALL_VIDEO_BUDGET_KBPS"] = str(self.args.budget)
        self.server = PinnedDaphne(self.workdir / "meet", env=env).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def join_selector(self) -> str:
        return BARE_JOIN if self.name == "bare" else self.args.meet_join

    def open(self, browser, n: int, member: int, rep: int):
        """A fresh context (own cookies) with the call page loaded, Join not pressed."""
        base = f"http://127.0.0.1:{self.server.port}"
        context = browser.new_context(base_url=base, viewport={"width": 800, "height": 600})
        context.add_init_script(browserlib.PROBE_JS)
        if self.name == "bare":
            url = f"/?room=call{n}-{rep}&video={self.args.video}&budget={self.args.budget}"
        else:
            room = self.fixture["pools"][f"call{n}"][0]
            session = room["members"][member]["session"]
            context.add_cookies([{"name": self.fixture["cookie"], "value": session, "url": base}])
            url = f"/r/{room['slug']}/call/"
        page = context.new_page()
        page.on("pageerror", lambda exc: print(f"  page error: {exc}", file=sys.stderr))
        page.goto(url)
        page.locator(self.join_selector).wait_for(state="visible", timeout=15_000)
        page.wait_for_function(
            "sel => { const b = document.querySelector(sel); return b && !b.disabled; }",
            arg=self.join_selector,
            timeout=15_000,
        )
        return context, page


def wait_frames(page, count: int, timeout_s: float) -> None:
    page.wait_for_function(
        "n => window.__bench.framedCount() >= n", arg=count, timeout=timeout_s * 1000, polling=20
    )


def run_size(site: Site, playwright, n: int, rep: int) -> dict:
    args = site.args
    browser = browserlib.launch(playwright)
    joins: list[dict] = []
    errors: list[str] = []
    try:
        # The N-1 people already in the call.
        present = []
        for member in range(n - 1):
            context, page = site.open(browser, n, member, rep)
            page.evaluate("window.__bench.start()")
            page.click(site.join_selector)
            wait_frames(page, member, 30)
            page.evaluate("window.__bench.stop()")
            present.append(context)
        # The newcomer, --warmup + --joins times.
        for j in range(args.warmup + args.joins):
            context = None
            try:
                context, page = site.open(browser, n, n - 1, rep)
                page.evaluate("window.__bench.start()")
                page.click(site.join_selector)
                wait_frames(page, n - 1, args.timeout)
                marks = page.evaluate("window.__bench.marks()")
                rel = browserlib.marks_relative(marks)
                steps = browserlib.group_steps(rel)
                if j >= args.warmup:
                    joins.append({"total_ms": steps["first_frame"], "steps": steps, "marks": rel})
            except Exception as exc:  # a failed join is reported, the run goes on
                errors.append(f"join {j}: {type(exc).__name__}: {str(exc)[:300]}")
                if context is not None and context.pages:
                    shot = benchlib.RESULTS / f"call-{site.name}-{n}-{rep}-{j}.png"
                    benchlib.RESULTS.mkdir(parents=True, exist_ok=True)
                    with contextlib.suppress(Exception):
                        context.pages[0].screenshot(path=str(shot))
            finally:
                if context is not None:
                    context.close()
            time.sleep(args.settle)
        for context in present:
            context.close()
    finally:
        browser.close()
    totals = [j["total_ms"] for j in joins if j["total_ms"] is not None]
    step_stats = {}
    for step in STEPS:
        values = [j["steps"][step] for j in joins if j["steps"].get(step) is not None]
        step_stats[step] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return {
        "target": site.name,
        "size": n,
        "rep": rep,
        "joins": len(joins),
        "errors": errors,
        "p50_ms": percentile(totals, 50),
        "p95_ms": percentile(totals, 95),
        "mean_ms": statistics.fmean(totals) if totals else None,
        "steps": step_stats,
        "samples": joins,
    }


def summarise(runs: list[dict], targets: list[str], sizes: list[int]) -> dict:
    summary: dict = {}
    for t in targets:
        for n in sizes:
            mine = [r for r in runs if r["target"] == t and r["size"] == n]
            entry = {
                "p50_ms": spread(r["p50_ms"] for r in mine),
                "p95_ms": spread(r["p95_ms"] for r in mine),
                "steps_p50": {s: spread(r["steps"][s]["p50"] for r in mine) for s in STEPS},
            }
            summary[f"{t}/{n}"] = entry
    if "meet" in targets and "bare" in targets:
        for n in sizes:
            ours, floor = summary[f"meet/{n}"], summary[f"bare/{n}"]
            for key in ("p50_ms", "p95_ms"):
                a, b = ours[key]["median"], floor[key]["median"]
                ours[f"ratio_{key}"] = a / b if a and b else None
    return summary


def markdown(summary: dict, targets: list[str], sizes: list[int]) -> str:
    header = ["people", "target", "join → all video p50 ms", "p95 ms", "ratio p50 ÷ bare"]
    header += [f"{s} p50" for s in STEPS[:-1]]
    rows = []
    for n in sizes:
        for t in targets:
            e = summary[f"{t}/{n}"]
            ratio = e.get("ratio_p50_ms")
            rows.append(
                [
                    str(n),
                    t,
                    fmt_spread(e["p50_ms"], 0),
                    fmt_spread(e["p95_ms"], 0),
                    f"{ratio:.2f}×" if ratio else "–",
                    *(fmt_spread(e["steps_p50"][s], 0) for s in STEPS[:-1]),
                ]
            )
    return markdown_table(header, rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--targets", default="meet,bare", help="comma-separated: meet, bare")
    p.add_argument("--sizes", default="2,3,4", help="call sizes (people, newcomer included)")
    p.add_argument("--joins", type=int, default=10, help="measured joins per size")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured joins first")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--settle", type=float, default=1.0, help="seconds between joins")
    p.add_argument("--timeout", type=float, default=30, help="seconds for one join")
    p.add_argument("--video", default="1280x720@30", help="camera constraints (CALL_VIDEO)")
    p.add_argument("--budget", type=int, default=2500, help="CALL_VIDEO_BUDGET_KBPS")
    p.add_argument("--meet-join", default=MEET_JOIN, help="selector of meet's Join button")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if bad := [t for t in args.targets if t not in {"meet", "bare"}]:
        p.error(f"unknown target(s): {bad}")
    args.sizes = [int(n) for n in args.sizes.split(",")]
    if any(n < 2 or n > 4 for n in args.sizes):
        p.error("sizes are 2 to 4")
    return args


def main(argv: list[str] | None = None) -> int:
    browserlib.ensure_isolated()
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    workdir = browserlib.scratch("call-")
    sites = {t: Site(t, args, workdir) for t in args.targets}
    runs = []
    started = time.monotonic()
    try:
        for site in sites.values():
            site.start()
        with sync_playwright() as playwright:
            for rep in range(args.reps):
                for n in args.sizes:
                    for t in args.targets:
                        print(f"  {t} {n} people, rep {rep}", file=sys.stderr, flush=True)
                        runs.append(run_size(sites[t], playwright, n, rep))
    finally:
        for site in sites.values():
            site.stop()
    summary = summarise(runs, args.targets, args.sizes)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    data = {
        "config": config,
        "wall_seconds": time.monotonic() - started,
        "runs": runs,
        "summary": summary,
    }
    path = benchlib.write_result("call-setup", data, args.out)
    print(markdown(summary, args.targets, args.sizes))
    errors = [e for r in runs for e in r["errors"]]
    if errors:
        print(f"\n{len(errors)} failed joins, e.g. {errors[0]}")
    print(f"\nresult: {path}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
