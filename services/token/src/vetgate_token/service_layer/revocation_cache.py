"""Revocations in memory, so introspection needs no database round trip.

The table is re-read at most every ``refresh_every`` seconds (a revocation made by another replica is
seen within that), and revocations made in this process take effect here at once: they are kept
locally for a grace period that outlives any refresh that started before their transaction committed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class RevocationCache:
    refresh_every: float = 1.0
    local_grace: float = 10.0
    _jtis: set[str] = field(default_factory=set)
    _watermarks: dict[str, datetime] = field(default_factory=dict)
    _local: list[tuple[float, str | None, str | None, datetime | None]] = field(default_factory=list)
    _loaded_at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _background: asyncio.Future[None] | None = None

    def record(
        self, *, jti: str | None = None, client_id: str | None = None, issued_before: datetime | None = None
    ) -> None:
        """A revocation written by this process (its transaction may not have committed yet)."""
        self._local.append((time.monotonic() + self.local_grace, jti, client_id, issued_before))
        self._apply(jti, client_id, issued_before)

    async def is_revoked(self, engine: AsyncEngine, claims: dict[str, Any]) -> bool:
        age = time.monotonic() - self._loaded_at
        if age > self.refresh_every:
            await self._refresh(engine)
        elif age > self.refresh_every * 0.75 and not self._lock.locked():
            # Re-read ahead, in the background: under load no request waits for the refresh.
            self._background = asyncio.ensure_future(self._refresh(engine))
            # Nobody awaits it: a failure (database away) is retried by the next request, which reports it.
            self._background.add_done_callback(lambda task: task.cancelled() or task.exception())
        if claims.get("jti") in self._jtis:
            return True
        watermark = self._watermarks.get(claims.get("client_id", ""))
        return watermark is not None and datetime.fromtimestamp(claims["iat"], UTC) < watermark

    async def _refresh(self, engine: AsyncEngine) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at <= self.refresh_every * 0.75:
                return  # another request refreshed while we waited
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text("SELECT jti, client_id, issued_before FROM revocations WHERE relevant_until > now()")
                    )
                ).all()
            self._jtis, self._watermarks = set(), {}
            for jti, client_id, issued_before in rows:
                self._apply(jti, client_id if issued_before else None, issued_before)
            now = time.monotonic()
            self._local = [entry for entry in self._local if entry[0] > now]
            for _, jti, client_id, issued_before in self._local:
                self._apply(jti, client_id, issued_before)
            self._loaded_at = now

    def _apply(self, jti: str | None, client_id: str | None, issued_before: datetime | None) -> None:
        if jti:
            self._jtis.add(jti)
        if client_id and issued_before:
            current = self._watermarks.get(client_id)
            self._watermarks[client_id] = max(current, issued_before) if current else issued_before
