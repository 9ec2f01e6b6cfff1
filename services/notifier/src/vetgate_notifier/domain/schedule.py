"""When to try a delivery again: a fixed schedule with jitter, stretched by a receiver's Retry-After."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

# A Retry-After larger than this is taken as this: a receiver cannot park a delivery for weeks.
MAX_RETRY_AFTER = 86_400.0


@dataclass(frozen=True)
class RetrySchedule:
    """``delays[k]`` is the wait before attempt ``k + 1`` (the first is normally 0: immediate)."""

    delays: Sequence[float]
    jitter: float = 0.1
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if not self.delays:
            raise ValueError("a retry schedule needs at least one attempt")
        if any(d < 0 for d in self.delays) or not 0 <= self.jitter < 1:
            raise ValueError("delays must be >= 0 and jitter in [0, 1)")

    @property
    def attempts(self) -> int:
        return len(self.delays)

    def first_delay(self) -> float:
        return self._jittered(self.delays[0])

    def next_delay(self, attempts_made: int, retry_after: float | None = None) -> float | None:
        """Seconds until the next attempt after ``attempts_made`` failed ones; None when none is left."""
        if attempts_made >= self.attempts:
            return None
        delay = self._jittered(self.delays[attempts_made])
        if retry_after is not None:
            # The receiver asked for room (429/503): never sooner than it said, never absurdly later.
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay

    def _jittered(self, delay: float) -> float:
        # Spreads the retries of a burst that failed together, so they do not all return at once.
        return delay * (1 + self.rng.uniform(-self.jitter, self.jitter)) if delay else 0.0
