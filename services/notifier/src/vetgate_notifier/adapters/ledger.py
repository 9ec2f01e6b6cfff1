"""The delivery ledger in Postgres: what is due, who holds it, and every attempt made.

Pending work lives here, not in memory, so a restart (or another replica) picks it up. A claim takes
due rows with ``FOR UPDATE SKIP LOCKED`` and leases them (``next_attempt_at`` moves past the lease), so
the attempt itself runs outside any transaction and a crashed attempt is retried once the lease ends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events.token import CredentialsIssued

from vetgate_notifier.adapters.tables import attempts, deliveries
from vetgate_notifier.domain.verdicts import AttemptResult, Verdict

Transition = Literal["delivered", "failed"]


def wake_channel(schema: str) -> str:
    """The NOTIFY channel that tells dispatchers new work is due (delivered at commit)."""
    return f"vetgate_notifier_due_{schema}"


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt."""

    credentials: CredentialsIssued
    generation: int
    attempt: int
    claim_id: uuid.UUID

    @property
    def delivery_id(self) -> uuid.UUID:
        return self.credentials.delivery_id


_CLAIM = text(
    """
    UPDATE deliveries d
       SET claim_id = :claim, attempts = d.attempts + 1,
           next_attempt_at = now() + make_interval(secs => :lease)
      FROM (SELECT delivery_id FROM deliveries
             WHERE status = 'pending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at LIMIT :n FOR UPDATE SKIP LOCKED) due
     WHERE d.delivery_id = due.delivery_id
    RETURNING d.credentials, d.generation, d.attempts
    """
)


class Ledger:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self._engine = engine
        self.channel = wake_channel(schema)

    async def add(self, conn: AsyncConnection, issued: CredentialsIssued, first_delay: float) -> bool:
        """Record a delivery to make; False when it is already known (a replay changes nothing)."""
        target = issued.delivery.url if issued.delivery.kind == "hook_url" else issued.delivery.address
        inserted = await conn.execute(
            pg_insert(deliveries)
            .values(
                delivery_id=issued.delivery_id,
                activation_id=issued.activation_id,
                provet_id=issued.provet_id,
                client_id=issued.client_id,
                integration_name=issued.integration_name,
                channel=issued.delivery.kind,
                target=target,
                credentials=issued.model_dump(mode="json"),
                status="pending",
                next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, first_delay),
            )
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(deliveries.c.delivery_id)
        )
        if inserted.first() is None:
            return False
        await self.wake(conn)
        return True

    async def wake(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": self.channel})

    async def claim(self, limit: int, lease: float) -> list[Claimed]:
        claim_id = uuid.uuid4()
        async with self._engine.begin() as conn:
            rows = await conn.execute(_CLAIM, {"claim": claim_id, "lease": lease, "n": limit})
            return [
                Claimed(CredentialsIssued.model_validate(r.credentials), r.generation, r.attempts, claim_id)
                for r in rows
            ]

    async def seconds_until_due(self) -> float | None:
        async with self._engine.connect() as conn:
            value = await conn.scalar(
                text("SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM deliveries WHERE status = 'pending'")
            )
        return None if value is None else max(0.0, float(value))

    async def record(
        self,
        conn: AsyncConnection,
        claimed: Claimed,
        result: AttemptResult,
        attempted_at: datetime,
        next_delay: float | None,
    ) -> Transition | None:
        """Write the attempt and move the delivery on; returns the transition to announce, if any."""
        await conn.execute(
            insert(attempts).values(
                delivery_id=claimed.delivery_id,
                generation=claimed.generation,
                attempt=claimed.attempt,
                attempted_at=attempted_at,
                latency_ms=result.latency_ms,
                outcome=result.verdict.value,
                status_code=result.status_code,
                smtp_reply=result.smtp_reply,
                error=result.error,
            )
        )
        row = deliveries.c
        mine = (row.delivery_id == claimed.delivery_id) & (row.status == "pending")
        if result.verdict is Verdict.DELIVERED:
            # Delivered is the truth even if our lease ran out meanwhile; announced once only.
            done = await conn.execute(
                update(deliveries)
                .where(mine & (row.generation == claimed.generation))
                .values(status="delivered", delivered_at=func.now(), claim_id=None, last_error=None)
                .returning(row.delivery_id)
            )
            return "delivered" if done.first() else None
        mine &= row.claim_id == claimed.claim_id
        if result.verdict is Verdict.RETRY and next_delay is not None:
            await conn.execute(
                update(deliveries)
                .where(mine)
                .values(
                    next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, next_delay),
                    claim_id=None,
                    last_error=result.error,
                )
            )
            return None
        failed = await conn.execute(
            update(deliveries)
            .where(mine)
            .values(status="failed", failed_at=func.now(), claim_id=None, last_error=result.error)
            .returning(row.delivery_id)
        )
        return "failed" if failed.first() else None

    async def redeliver(self, conn: AsyncConnection, where: Any) -> list[uuid.UUID]:
        """Start a new generation for finished deliveries matching ``where`` (a pending one is made due
        now unless an attempt holds it); returns the deliveries that will be attempted again."""
        row = deliveries.c
        restarted = await conn.execute(
            update(deliveries)
            .where(where & (row.status != "pending"))
            .values(
                status="pending",
                generation=row.generation + 1,
                attempts=0,
                next_attempt_at=func.now(),
                claim_id=None,
                revealed_at=None,
                delivered_at=None,
                failed_at=None,
            )
            .returning(row.delivery_id)
        )
        hurried = await conn.execute(
            update(deliveries)
            .where(where & (row.status == "pending") & row.claim_id.is_(None))
            .values(next_attempt_at=func.now())
            .returning(row.delivery_id)
        )
        ids = [r.delivery_id for r in restarted] + [r.delivery_id for r in hurried]
        if ids:
            await self.wake(conn)
        return ids

    async def status_of(self, conn: AsyncConnection, delivery_id: uuid.UUID) -> Any:
        return (await conn.execute(select(deliveries).where(deliveries.c.delivery_id == delivery_id))).first()
