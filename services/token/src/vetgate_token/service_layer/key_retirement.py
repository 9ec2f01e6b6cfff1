"""Revoking legacy keys at the deadline (or when support asks), and reminding owners before it.

A job is a row first, then chunks: each chunk revokes up to ``chunk`` keys and stages their KeyRevoked
events in one transaction, so a restart in the middle resumes the job where it stopped and no key is
revoked (or announced) twice — a revoked key is never picked again, and its event id is derived from the
key. Replicas may run the same job at once: ``FOR UPDATE SKIP LOCKED`` hands them disjoint chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events.token import KeyRevocationReminder, KeyRevoked
from vetgate_messaging.outbox import add_events
from vetgate_platform.logs import get_logger

from vetgate_token.adapters.api_key_tables import api_key_reminders, api_key_revocation_jobs, api_keys
from vetgate_token.domain.api_keys import (
    ENVIRONMENTS,
    Environment,
    RetirementPolicy,
    key_revoked_event_id,
    reminder_batch_id,
    reminder_event_id,
)
from vetgate_token.service_layer.api_keys import KEY_COLUMNS, SOURCE, audit, load_policy

log = get_logger(__name__)

_REVOKE_CHUNK = text(
    """
    WITH chosen AS (
        SELECT id FROM api_keys
         WHERE revoked_at IS NULL AND (CAST(:environment AS text) IS NULL OR environment = :environment)
         ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED)
    UPDATE api_keys k
       SET revoked_at = now(), revocation_job_id = :job, revocation_reason = :reason
      FROM chosen WHERE k.id = chosen.id
    RETURNING k.id, k.provet_id, k.environment, k.integration, k.owner_email, k.revoked_at
    """
)


def _of_environment(environment: Environment | None) -> Any:
    active = api_keys.c.revoked_at.is_(None)
    return active if environment is None else active & (api_keys.c.environment == environment)


@dataclass
class KeyRetirement:
    engine: AsyncEngine
    check_interval: float = 5.0
    chunk: int = 1000
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    # One runner per process: a second would find the first one's chunks locked and end the job early.
    _running: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def plan(self, environment: Environment | None) -> list[dict[str, Any]]:
        """The keys a revocation of ``environment`` (None: all) would revoke now: the dry run."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(*KEY_COLUMNS).where(_of_environment(environment)).order_by(api_keys.c.id))
            return [dict(r._mapping) for r in rows]

    async def start(
        self,
        environment: Environment | None,
        *,
        reason: str,
        actor: str,
        deadline: datetime | None = None,
    ) -> str | None:
        """Record a job (run by :meth:`run`); None when this deadline's job exists already."""
        job_id = str(uuid.uuid4())
        values = {
            "id": job_id,
            "environment": environment,
            "trigger": "deadline" if deadline is not None else "support",
            "deadline": deadline,
            "reason": reason,
            "requested_by": actor,
        }
        async with self.engine.begin() as conn:
            statement = insert(api_key_revocation_jobs).values(**values)
            if deadline is not None:
                statement = statement.on_conflict_do_nothing(
                    index_elements=["environment", "deadline"], index_where=text("trigger = 'deadline'")
                )
            if (await conn.execute(statement.returning(api_key_revocation_jobs.c.id))).first() is None:
                return None
        audit.info("api key revocation started", actor=actor, job_id=job_id, environment=environment, reason=reason)
        self._wake.set()
        return job_id

    async def job(self, job_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(api_key_revocation_jobs).where(api_key_revocation_jobs.c.id == job_id))
            ).first()
            return None if row is None else dict(row._mapping)

    async def jobs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest jobs, newest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(api_key_revocation_jobs).order_by(api_key_revocation_jobs.c.started_at.desc()).limit(limit)
            )
            return [dict(r._mapping) for r in rows]

    async def run_unfinished(self) -> int:
        """Run every job not finished yet (also those a stopped process left half done); keys revoked."""
        async with self._running:
            async with self.engine.connect() as conn:
                jobs = list(
                    await conn.execute(
                        select(api_key_revocation_jobs)
                        .where(api_key_revocation_jobs.c.finished_at.is_(None))
                        .order_by(api_key_revocation_jobs.c.started_at)
                    )
                )
            return sum([await self._run(job) for job in jobs])

    async def _run(self, job: Any) -> int:
        revoked = 0
        while True:
            async with self.engine.begin() as conn:
                n = await self._revoke_chunk(conn, job)
                if n == 0:
                    await conn.execute(
                        update(api_key_revocation_jobs)
                        .where(api_key_revocation_jobs.c.id == job.id)
                        .values(finished_at=datetime.now(UTC))
                    )
            revoked += n
            if n == 0:
                audit.info("api key revocation finished", job_id=job.id, revoked=revoked, environment=job.environment)
                return revoked

    async def _revoke_chunk(self, conn: AsyncConnection, job: Any) -> int:
        params = {"environment": job.environment, "n": self.chunk, "job": job.id, "reason": job.reason}
        rows = list(await conn.execute(_REVOKE_CHUNK, params))
        events = [
            (
                KeyRevoked(
                    api_key_id=uuid.UUID(str(row.id)),
                    provet_id=row.provet_id,
                    environment=row.environment,
                    integration=row.integration,
                    owner_email=row.owner_email,
                    revocation_batch_id=uuid.UUID(str(job.id)),
                    reason=job.reason,
                    revoked_at=row.revoked_at,
                ),
                key_revoked_event_id(str(row.id)),
            )
            for row in rows
        ]
        await add_events(conn, events, source=SOURCE)
        if rows:
            await conn.execute(
                update(api_key_revocation_jobs)
                .where(api_key_revocation_jobs.c.id == job.id)
                .values(revoked_count=api_key_revocation_jobs.c.revoked_count + len(rows))
            )
        return len(rows)

    async def remind(self, policy: RetirementPolicy, days_before: int) -> int:
        """Stage one KeyRevocationReminder per active key with an owner, once per reminder point."""
        deadline = policy.revocation_deadline
        assert deadline is not None
        batch = reminder_batch_id(policy.environment, deadline, days_before)
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            claimed = await conn.execute(
                insert(api_key_reminders)
                .values(
                    environment=policy.environment, deadline=deadline, days_before=days_before, batch_id=batch, keys=0
                )
                .on_conflict_do_nothing()
                .returning(api_key_reminders.c.batch_id)
            )
            if claimed.first() is None:
                return 0  # this reminder point was handled already
            keys = await conn.execute(
                select(*KEY_COLUMNS).where(_of_environment(policy.environment), api_keys.c.owner_email.is_not(None))
            )
            events = [
                (
                    KeyRevocationReminder(
                        api_key_id=uuid.UUID(k.id),
                        provet_id=k.provet_id,
                        environment=policy.environment,
                        name=k.name,
                        integration=k.integration,
                        owner_email=k.owner_email,
                        reminder_batch_id=batch,
                        revocation_deadline=deadline,
                        last_used_at=k.last_used_at,
                        reminded_at=now,
                    ),
                    reminder_event_id(batch, k.id),
                )
                for k in keys
            ]
            await add_events(conn, events, source=SOURCE)
            await conn.execute(
                update(api_key_reminders).where(api_key_reminders.c.batch_id == str(batch)).values(keys=len(events))
            )
        log.info("api key reminders staged", environment=policy.environment, days_before=days_before, keys=len(events))
        return len(events)

    async def tick(self) -> None:
        """Start what the policies make due (deadline jobs, reminders), then run unfinished jobs."""
        now = datetime.now(UTC)
        async with self.engine.connect() as conn:
            policies = [await load_policy(conn, environment) for environment in ENVIRONMENTS]
        for policy in policies:
            deadline = policy.revocation_deadline
            if deadline is not None and policy.deadline_reached(now):
                reason = f"revocation deadline {deadline:%Y-%m-%d} of the {policy.environment} environment"
                await self.start(policy.environment, reason=reason, actor="policy", deadline=deadline)
            elif (days := policy.due_reminder(now)) is not None:
                await self.remind(policy, days)
        await self.run_unfinished()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception as exc:  # the database may be restarting; the next tick resumes
                log.warning("api key retirement check failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.check_interval)
