"""Throttling failed authentication: per client and per source, over a rolling window.

In memory, per process: each replica counts what it sees. That bounds guessing per replica; a shared
store would bound it per fleet, at the price of a network round trip on the hot path.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class FailureThrottle:
    limit: int = 10
    window: float = 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds until the busiest of ``keys`` may try again, or None when none is throttled."""
        now = time.monotonic()
        waits = []
        for key in keys:
            recent = self._recent(key, now)
            if len(recent) >= self.limit:
                waits.append(recent[0] + self.window - now)
        return math.ceil(max(waits)) if waits else None

    def failed(self, keys: Iterable[str]) -> None:
        now = time.monotonic()
        if len(self._failures) > 50_000:
            self._failures.clear()  # bound memory; at worst it forgets some failures
        for key in keys:
            self._recent(key, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._failures.setdefault(key, deque(maxlen=self.limit))
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
