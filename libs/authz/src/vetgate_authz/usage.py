"""API-key use counts for the token service, batched: never a write per request.

The token service counts every introspection as one use; the uses a resource server answers from its cache
are counted here (per key: how many, and the latest time) and reported every ``interval`` seconds to
``POST <token base>/v1/api-keys/usage``. A report that fails is merged back into the counts and goes out
with the next one, so uses are never lost; a delivered one is never sent again. (A report whose answer is
lost after the token service stored it — a timeout — is sent again: the endpoint has no idempotency key.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from vetgate_authz.errors import AuthUnavailable

log = logging.getLogger(__name__)

MAX_COUNT = 10_000_000
"""The most uses of one key the endpoint takes in one report; more (after a long outage) go in the next ones."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class KeyUses:
    count: int
    last_used_at: datetime

    def merged(self, other: KeyUses) -> KeyUses:
        return KeyUses(self.count + other.count, max(self.last_used_at, other.last_used_at))


class UsageMeter:
    """Uses per API key id since the last report taken; a dictionary update per use."""

    def __init__(self, *, now: Callable[[], datetime] = _utc_now) -> None:
        self._now = now
        self._uses: dict[str, KeyUses] = {}

    def __len__(self) -> int:
        return len(self._uses)

    def record(self, key_id: str) -> None:
        seen = self._uses.get(key_id)
        now = self._now()
        self._uses[key_id] = KeyUses(1, now) if seen is None else KeyUses(seen.count + 1, max(seen.last_used_at, now))

    def take(self) -> dict[str, KeyUses]:
        """Everything counted so far; counting starts again from nothing."""
        taken, self._uses = self._uses, {}
        return taken

    def give_back(self, uses: dict[str, KeyUses]) -> None:
        """Merge uses that could not be reported into what was counted since they were taken."""
        for key_id, seen in uses.items():
            current = self._uses.get(key_id)
            self._uses[key_id] = seen if current is None else current.merged(seen)


class UsageReporter:
    """Reports a :class:`UsageMeter` to the token service every ``interval`` seconds (``run``)."""

    def __init__(
        self,
        meter: UsageMeter,
        *,
        url: str,
        auth: httpx.Auth,
        http: httpx.AsyncClient,
        interval: float = 5.0,
        max_batch: int = 1000,
        final_report_timeout: float = 3.0,
    ) -> None:
        self.meter = meter
        self._url = url
        self._auth = auth
        self._http = http
        self._interval = interval
        self._max_batch = max_batch
        self._final_report_timeout = final_report_timeout

    async def run(self) -> None:
        """Report until cancelled, then once more (bounded), so a clean shutdown loses nothing."""
        try:
            while True:
                await asyncio.sleep(self._interval)
                await self.report()
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.report(), self._final_report_timeout)

    async def report(self) -> bool:
        """Send what was counted, ``max_batch`` keys a request; False (and everything unsent kept) on failure."""
        taken = self.meter.take()
        pending = [(key_id, KeyUses(min(seen.count, MAX_COUNT), seen.last_used_at)) for key_id, seen in taken.items()]
        self.meter.give_back(
            {
                key_id: KeyUses(seen.count - MAX_COUNT, seen.last_used_at)
                for key_id, seen in taken.items()
                if seen.count > MAX_COUNT
            }
        )
        sent = 0
        try:
            while sent < len(pending):
                batch = pending[sent : sent + self._max_batch]
                await self._send(batch)
                sent += len(batch)
        except (httpx.HTTPError, AuthUnavailable) as exc:
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
            log.warning("API key usage report failed (kept for the next one): %s %s", self._url, status)
            return False
        finally:
            self.meter.give_back(dict(pending[sent:]))  # also when cancelled mid-request
        return True

    async def _send(self, batch: list[tuple[str, KeyUses]]) -> None:
        uses = [
            {"api_key_id": key_id, "count": seen.count, "last_used_at": seen.last_used_at.isoformat()}
            for key_id, seen in batch
        ]
        response = await self._http.post(self._url, json={"uses": uses}, auth=self._auth)
        response.raise_for_status()
