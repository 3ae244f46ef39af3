"""Where the server's time goes, from a py-spy collapsed-stack profile.

    python bench/profile_summary.py bench/results/profile-meet-memory-saturate-rep0.txt

(``signaling_load.py --profile txt`` writes such files.) Prints the share of
samples per layer of the stack (each sample is charged to the innermost
frame that belongs to a known layer), then the top functions by own time and
by inclusive time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

# A sample is charged to the innermost frame that belongs to one of these
# layers (asyncio's own frames only when nothing else matches: a socket write
# made by the Redis client is the Redis layer's time).
LAYERS = [
    ("channel layer: in-memory", r"channels/layers\.py"),
    ("channel layer: redis", r"channels_redis/|redis/"),
    ("database and sessions", r"django/db/|django/contrib/sessions/|sqlite3|psycopg"),
    ("auth middleware", r"channels/(auth|sessions)\.py"),
    ("signaling consumer", r"signaling/"),
    ("channels consumer plumbing", r"channels/(consumer|generic|utils|routing|middleware)"),
    ("daphne / autobahn (WebSocket)", r"daphne/|autobahn/"),
    ("twisted I/O", r"twisted/"),
    ("JSON", r"json/"),
    ("asgiref thread hops", r"asgiref/|concurrent/futures"),
    ("bare relay and websockets", r"bare_relay\.py|websockets/"),
]
# Frames every stack goes through (process entry, the reactor and loop
# drivers): never a layer of their own.
ENTRY = re.compile(
    r"^(<module>|_run_code|_run_module_as_main|CommandLineInterface\.|Server\.run|"
    r"AsyncioSelectorReactor\.run|BaseEventLoop\.run_forever|BaseEventLoop\._run_once|"
    r"Handle\._run|Thread\.|_worker|_WorkItem\.run) "
)


def parse(path: str) -> list[tuple[list[str], int]]:
    stacks = []
    with open(path) as f:
        for line in f:
            line = line.rstrip()
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
            stacks.append((frames, int(count)))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="py-spy --format raw output")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    stacks = parse(args.profile)
    total = sum(n for _, n in stacks) or 1
    layers: Counter = Counter()
    own: Counter = Counter()
    inclusive: Counter = Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
        for frame in reversed(frames):
            if ENTRY.match(frame):
                continue
            layer = next((name for name, pat in LAYERS if re.search(pat, frame)), None)
            if layer:
                layers[layer] += n
                break
        else:
            generic = any(re.search(r"asyncio/|selectors\.py", f) for f in frames)
            layers["asyncio event loop itself" if generic else "other"] += n
    print(f"{total} samples\n\nby layer:")
    for name, n in layers.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nown time:")
    for frame, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {frame[:120]}")
    print("\ninclusive time (signaling and channels frames):")
    shown = 0
    for frame, n in inclusive.most_common():
        if re.search(r"signaling/|channels(_redis)?/", frame):
            print(f"  {100 * n / total:5.1f}%  {frame[:120]}")
            shown += 1
            if shown >= args.top:
                break


if __name__ == "__main__":
    main()
