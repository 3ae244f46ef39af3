"""Per-connection message rate limit: a token bucket.

Each connection has its own bucket, so one flooding client only ever slows
itself down; other connections, in its room or elsewhere, never share it.
"""

from __future__ import annotations

import time


class TokenBucket:
    """``rate`` tokens per second refill a bucket of ``burst``; a message takes one."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self, now: float | None = None) -> bool:
        """Take a token if one is left; ``False`` means the message is over the limit."""
        if now is None:
            now = time.monotonic()
        elapsed = now - self.updated
        self.updated = now
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
