"""Helpers for driving the call page: people, rooms, joining, and media checks.

Media checks read ``RTCPeerConnection.getStats()`` through a test-only
wrapper installed with ``add_init_script`` (``PC_RECORDER``): it records every
connection the page creates. The application itself has no test hooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import BrowserContext, Page

from rooms import services
from rooms.models import Membership, Room

PC_RECORDER = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__testPcs) return;
  const pcs = [];
  Object.defineProperty(window, "__testPcs", { value: pcs });
  window.RTCPeerConnection = new Proxy(Native, {
    construct(target, args, newTarget) {
      const pc = Reflect.construct(target, args, newTarget);
      pcs.push(pc);
      return pc;
    },
  });
})();
"""

# Records every track getUserMedia / getDisplayMedia hands out, so a test can
# check that "camera off" really stopped the camera.
TRACK_RECORDER = """
(() => {
  const devices = navigator.mediaDevices;
  if (!devices || window.__testTracks) return;
  const tracks = [];
  Object.defineProperty(window, "__testTracks", { value: tracks });
  for (const name of ["getUserMedia", "getDisplayMedia"]) {
    const original = devices[name] && devices[name].bind(devices);
    if (!original) continue;
    devices[name] = async (...args) => {
      const stream = await original(...args);
      for (const track of stream.getTracks()) tracks.push({ source: name, track });
      return stream;
    };
  }
})();
"""

# Records every data channel the page creates, so a test can send what a
# tampered-with page would send on it (forged names, fake files).
CHANNEL_RECORDER = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__testChannels) return;
  const channels = [];
  Object.defineProperty(window, "__testChannels", { value: channels });
  const create = Native.prototype.createDataChannel;
  Native.prototype.createDataChannel = function (...args) {
    const channel = create.apply(this, args);
    channels.push(channel);
    return channel;
  };
})();
"""

# Samples every open connection's inbound media until each one shows video
# frames decoded, video bytes and audio bytes growing between two samples.
MEDIA_FLOWING = """
async ({ peers, timeout, audio }) => {
  const sample = async () => {
    const result = new Map();
    for (const pc of window.__testPcs) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      const entry = { state: pc.connectionState, frames: 0, videoBytes: 0, audioBytes: 0,
                      width: 0, height: 0, local: null, remote: null };
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") {
          entry.frames += s.framesDecoded || 0;
          entry.videoBytes += s.bytesReceived || 0;
          entry.width = s.frameWidth || entry.width;
          entry.height = s.frameHeight || entry.height;
        }
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          entry.audioBytes += s.bytesReceived || 0;
        }
        if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      if (pairId && stats.get(pairId)) {
        const pair = stats.get(pairId);
        entry.local = (stats.get(pair.localCandidateId) || {}).candidateType || null;
        entry.remote = (stats.get(pair.remoteCandidateId) || {}).candidateType || null;
      }
      result.set(pc, entry);
    }
    return result;
  };
  const grew = (a, b) => b.frames > a.frames && b.videoBytes > a.videoBytes
    && (!audio || b.audioBytes > a.audioBytes);
  const deadline = performance.now() + timeout;
  let base = await sample();
  let now = base;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    now = await sample();
    const same = now.size === base.size && [...now.keys()].every((pc) => base.has(pc));
    if (!same) { base = now; continue; }
    if (now.size === peers && [...now].every(([pc, s]) => grew(base.get(pc), s))) {
      return { ok: true, peers: [...now.values()] };
    }
  }
  return { ok: false, peers: [...now.values()] };
}
"""


@dataclass
class Person:
    user: Any
    context: BrowserContext
    page: Page


# Follow the live connections from now on: every 100 ms, per connection, how
# long since its video framesDecoded last grew; the worst such gap is kept.
WATCH_FRAMES = """() => {
    const pcs = window.__testPcs.filter((pc) => pc.connectionState !== "closed");
    const watch = { pcs, created: window.__testPcs.length, worst: 0,
                    last: pcs.map(() => ({ at: performance.now(), frames: -1 })) };
    window.__watch = watch;
    const sample = async () => {
        for (const [index, pc] of pcs.entries()) {
            const stats = await pc.getStats();
            let frames = 0;
            stats.forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
            });
            const now = performance.now();
            const last = watch.last[index];
            if (frames > last.frames) {
                last.at = now;
                last.frames = frames;
            } else {
                watch.worst = Math.max(watch.worst, now - last.at);
            }
        }
    };
    watch.timer = setInterval(sample, 100);
    return pcs.length;
}"""

# What the watch saw: the worst stall, whether any connection was created or
# closed since, and every connection's decoded frames.
WATCHED = """() => {
    const watch = window.__watch;
    return {
        worst: watch.worst,
        created: window.__testPcs.length - watch.created,
        open: watch.pcs.filter((pc) => pc.connectionState === "connected").length,
        frames: watch.last.map((entry) => entry.frames),
    };
}"""


def make_room(owner, name: str = "Weekly sync", members=(), max_participants: int = 4) -> Room:
    room = services.room_create(owner=owner, name=name, max_participants=max_participants)
    for user in members:
        Membership.objects.create(room=room, user=user)
    return room


def open_call(context: BrowserContext, room: Room) -> Page:
    """Open the room's call page (pre-join screen) and wait until Join is ready."""
    context.add_init_script(PC_RECORDER)
    context.add_init_script(TRACK_RECORDER)
    context.add_init_script(CHANNEL_RECORDER)
    page = context.new_page()
    # Join enabled is what matters (the page's modules run before
    # DOMContentLoaded); the whole page's "load" is not waited for.
    page.goto(room.get_call_url(), wait_until="domcontentloaded")
    page.wait_for_selector("#join-button:not([disabled])")
    return page


def join(page: Page) -> None:
    page.click("#join-button")
    page.wait_for_selector('#incall:not([hidden]) .tile[data-peer-id="self"]')


REMOTE_TILES = ".tile:not([data-self])"


def start_call(new_context, server, room, users, **context_options) -> list[Person]:
    """Open the call page for each user in turn and join."""
    people = []
    for user in users:
        context = new_context(server, user, **context_options)
        page = open_call(context, room)
        join(page)
        people.append(Person(user, context, page))
    return people


def tile(page: Page, name: str):
    """The remote tile showing ``name``."""
    return page.locator(f'{REMOTE_TILES}[data-name="{name}"]')


def wait_for_peers(page: Page, count: int, timeout: float = 15_000) -> None:
    """Wait until ``count`` remote tiles show a connected pair."""
    page.wait_for_function(
        """(count) => {
            const tiles = document.querySelectorAll('.tile:not([data-self])');
            return tiles.length === count
              && [...tiles].every((tile) => tile.dataset.state === 'connected');
        }""",
        arg=count,
        timeout=timeout,
    )


def wait_for_new_peer(page: Page, old_id: str, timeout: float = 20_000) -> None:
    """Wait until the one remote tile is connected under a peer id other than
    ``old_id`` (the other side joined afresh)."""
    page.wait_for_function(
        """(old) => {
            const tiles = [...document.querySelectorAll('.tile:not([data-self])')];
            return tiles.length === 1 && tiles[0].dataset.peerId !== old
              && tiles[0].dataset.state === 'connected';
        }""",
        arg=old_id,
        timeout=timeout,
    )


def media_flowing(page: Page, peers: int, timeout: float = 15_000, audio: bool = True) -> dict:
    return page.evaluate(MEDIA_FLOWING, {"peers": peers, "timeout": timeout, "audio": audio})


def assert_media_flowing(page: Page, peers: int, timeout: float = 15_000, audio: bool = True):
    result = media_flowing(page, peers, timeout, audio)
    assert result["ok"], result
    return result["peers"]
