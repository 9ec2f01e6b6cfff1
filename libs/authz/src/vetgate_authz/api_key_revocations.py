"""Revoked legacy API keys, pushed by ``KeyRevoked`` on ``token.api-keys.v1`` (docs/decisions/0016).

The token service refuses a revoked key itself, so this only has to cover what a resource server remembers:
its cached introspection answers, and answers to introspections already in flight when the key was revoked.
An id is therefore kept for ``retention`` seconds after it arrived, which must exceed the positive cache
TTL plus the introspection timeout (a revocation is final, so keeping it longer is harmless).

The push is *live* while the feed has caught up and has heard from the broker within ``live_grace``
seconds; only then may introspection answers be trusted for long (see :class:`IntrospectionClient`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from vetgate_events.token import KeyRevoked


def api_key_id(value: str | None) -> str | None:
    """The canonical form of an API key id (a UUID, as ``KeyRevoked.api_key_id``); None if it is not one."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class RevokedApiKeys:
    def __init__(
        self,
        *,
        retention: float = 300.0,
        live_grace: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retention = retention
        self._live_grace = live_grace
        self._clock = clock
        self._revoked: dict[str, float] = {}  # api key id → forget after
        self._live_at: float | None = None

    def __len__(self) -> int:
        return len(self._revoked)

    def keep_for_at_least(self, seconds: float) -> None:
        """Never forget an id sooner than this (a cache that trusts answers longer raises it)."""
        self.retention = max(self.retention, seconds)

    def apply(self, event: KeyRevoked) -> None:
        self.revoke(str(event.api_key_id))

    def revoke(self, key_id: str) -> None:
        now = self._clock()
        if self._revoked and next(iter(self._revoked.values())) <= now:
            self._revoked = {k: until for k, until in self._revoked.items() if until > now}
        self._revoked.pop(key_id, None)  # insertion order stays the order of expiry
        self._revoked[key_id] = now + self.retention

    def is_revoked(self, key_id: str) -> bool:
        return self._revoked.get(key_id, 0.0) > self._clock()

    def mark_live(self) -> None:
        """The feed is caught up and the broker answered it just now."""
        self._live_at = self._clock()

    @property
    def live(self) -> bool:
        return self._live_at is not None and self._clock() - self._live_at <= self._live_grace
