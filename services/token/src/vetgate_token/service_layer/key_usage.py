"""Last-used time and use count of legacy keys, written in batches: no database write per request.

Introspections and the uses resource servers report from their caches are summed in memory and flushed
every ``interval`` seconds in one UPDATE. A crash loses at most one interval of counts (not keys, not
revocations): an accepted trade for a statistic that only tells support who still uses a key.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_platform.logs import get_logger

log = get_logger(__name__)

_FLUSH = text(
    """
    UPDATE api_keys k
       SET use_count = k.use_count + u.uses,
           last_used_at = GREATEST(k.last_used_at, u.last_used)
      FROM unnest(CAST(:ids AS uuid[]), CAST(:uses AS bigint[]), CAST(:times AS timestamptz[]))
           AS u(id, uses, last_used)
     WHERE k.id = u.id
    """
)


@dataclass
class UsageBuffer:
    engine: AsyncEngine
    interval: float = 2.0
    _pending: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    def record(self, api_key_id: str, uses: int = 1, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        count, latest = self._pending.get(api_key_id, (0, at))
        self._pending[api_key_id] = (count + uses, max(latest, at))

    async def flush(self) -> int:
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        ids = list(pending)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    _FLUSH,
                    {"ids": ids, "uses": [pending[i][0] for i in ids], "times": [pending[i][1] for i in ids]},
                )
        except Exception:
            for api_key_id, (uses, at) in pending.items():  # keep them for the next flush
                self.record(api_key_id, uses, at)
            raise
        return len(ids)

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.interval)
                try:
                    await self.flush()
                except Exception as exc:  # the database may be restarting: counts wait for the next round
                    log.warning("api key usage not written yet", error=type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.flush())  # at shutdown: what is buffered is written
