"""The delivery ledger in Postgres: what is due, who holds it, and every attempt made.

Pending work lives here, not in memory, so a restart (or another replica) picks it up. A claim takes
due rows with ``FOR UPDATE SKIP LOCKED`` and leases them (``next_attempt_at`` moves past the lease), so
the attempt itself runs outside any transaction and a crashed attempt is retried once the lease ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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


@dataclass(frozen=True)
class Recorded:
    """One finished attempt, waiting to be written."""

    claimed: Claimed
    result: AttemptResult
    attempted_at: datetime
    next_delay: float | None
    """Seconds until the next attempt; None when no attempt is left."""


# Delivered is the truth even if the lease ran out meanwhile (generation must match); announced once.
_DELIVERED = text(
    """
    UPDATE deliveries d SET status = 'delivered', delivered_at = now(), claim_id = NULL, last_error = NULL
      FROM unnest(CAST(:ids AS uuid[]), CAST(:gens AS int[])) AS v(id, gen)
     WHERE d.delivery_id = v.id AND d.generation = v.gen AND d.status = 'pending'
    RETURNING d.delivery_id
    """
)
# Retries and failures apply only while the attempt still holds its claim.
_RETRY = text(
    """
    UPDATE deliveries d
       SET next_attempt_at = now() + make_interval(secs => v.delay), claim_id = NULL, last_error = v.error
      FROM unnest(CAST(:ids AS uuid[]), CAST(:claims AS uuid[]), CAST(:delays AS float8[]), CAST(:errors AS text[]))
           AS v(id, claim, delay, error)
     WHERE d.delivery_id = v.id AND d.claim_id = v.claim AND d.status = 'pending'
    """
)
_FAILED = text(
    """
    UPDATE deliveries d SET status = 'failed', failed_at = now(), claim_id = NULL, last_error = v.error
      FROM unnest(CAST(:ids AS uuid[]), CAST(:claims AS uuid[]), CAST(:errors AS text[])) AS v(id, claim, error)
     WHERE d.delivery_id = v.id AND d.claim_id = v.claim AND d.status = 'pending'
    RETURNING d.delivery_id
    """
)


class Ledger:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self._engine = engine
        self.channel = wake_channel(schema)

    async def add(self, conn: AsyncConnection, issued: Sequence[CredentialsIssued], first_delay: float) -> int:
        """Record deliveries to make (one statement); returns how many are new — a replayed one is
        already known and changes nothing."""
        if not issued:
            return 0
        rows = [
            {
                "delivery_id": event.delivery_id,
                "activation_id": event.activation_id,
                "provet_id": event.provet_id,
                "client_id": event.client_id,
                "integration_name": event.integration_name,
                "channel": event.delivery.kind,
                "target": event.delivery.url if event.delivery.kind == "hook_url" else event.delivery.address,
                "credentials": event.model_dump(mode="json"),
                "status": "pending",
            }
            for event in issued
        ]
        inserted = await conn.execute(
            pg_insert(deliveries)
            # The database's clock, like the claim's: an application host running ahead cannot delay it.
            .values(next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, float(first_delay)))
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(deliveries.c.delivery_id),
            rows,
        )
        added = len(inserted.all())
        if added:
            await self.wake(conn)
        return added

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

    async def record(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> list[tuple[Recorded, Transition]]:
        """Write a batch of attempts and move each delivery on, in set-based statements (one round trip
        per kind of change, not per delivery); returns the transitions to announce."""
        await conn.execute(
            insert(attempts),
            [
                {
                    "delivery_id": r.claimed.delivery_id,
                    "generation": r.claimed.generation,
                    "attempt": r.claimed.attempt,
                    "attempted_at": r.attempted_at,
                    "latency_ms": r.result.latency_ms,
                    "outcome": r.result.verdict.value,
                    "status_code": r.result.status_code,
                    "smtp_reply": r.result.smtp_reply,
                    "error": r.result.error,
                }
                for r in batch
            ],
        )
        delivered: list[Recorded] = []
        retried: list[Recorded] = []
        failed: list[Recorded] = []
        for r in batch:
            if r.result.verdict is Verdict.DELIVERED:
                delivered.append(r)
            elif r.result.verdict is Verdict.RETRY and r.next_delay is not None:
                retried.append(r)
            else:
                failed.append(r)
        by_id = {r.claimed.delivery_id: r for r in batch}
        transitions: list[tuple[Recorded, Transition]] = []
        if delivered:
            rows = await conn.execute(
                _DELIVERED,
                {"ids": [r.claimed.delivery_id for r in delivered], "gens": [r.claimed.generation for r in delivered]},
            )
            transitions += [(by_id[row.delivery_id], "delivered") for row in rows]
        if retried:
            await conn.execute(
                _RETRY,
                {
                    "ids": [r.claimed.delivery_id for r in retried],
                    "claims": [r.claimed.claim_id for r in retried],
                    "delays": [float(r.next_delay or 0) for r in retried],
                    "errors": [r.result.error for r in retried],
                },
            )
        if failed:
            rows = await conn.execute(
                _FAILED,
                {
                    "ids": [r.claimed.delivery_id for r in failed],
                    "claims": [r.claimed.claim_id for r in failed],
                    "errors": [r.result.error for r in failed],
                },
            )
            transitions += [(by_id[row.delivery_id], "failed") for row in rows]
        return transitions

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
