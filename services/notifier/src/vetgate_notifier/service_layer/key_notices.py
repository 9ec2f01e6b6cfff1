"""Legacy-key notices: one mail per (kind, batch, owner) listing every key of the owner in the batch.

A revocation notice lists keys that were revoked (KeyRevoked), a reminder keys that will be at the
batch's deadline (KeyRevocationReminder). A notice becomes due when its batch has been quiet for a few
seconds (see Intake._collect); state is in Postgres, so a restart neither loses nor repeats a notice.
Keys that arrive after a mail went out are sent in a follow-up mail (each mail lists only keys not yet
notified). A reminder still unsent at its deadline is dropped (status ``expired``), never sent late.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_platform.logs import get_logger

from vetgate_notifier.adapters.mail_content import render
from vetgate_notifier.adapters.mailer import SmtpMailer
from vetgate_notifier.adapters.tables import key_notice_items, key_notices
from vetgate_notifier.domain.schedule import RetrySchedule
from vetgate_notifier.domain.verdicts import Verdict
from vetgate_notifier.service_layer.key_notice_mails import notice_mail, past_deadline

log = get_logger(__name__)

_CLAIM = text(
    """
    UPDATE key_notices n
       SET claim_id = :claim, attempts = n.attempts + 1, due_at = now() + make_interval(secs => :lease)
      FROM (SELECT kind, batch_id, owner_email FROM key_notices
             WHERE status = 'pending' AND due_at <= now()
             ORDER BY due_at LIMIT :n FOR UPDATE SKIP LOCKED) due
     WHERE n.kind = due.kind AND n.batch_id = due.batch_id AND n.owner_email = due.owner_email
    RETURNING n.kind, n.batch_id, n.owner_email, n.attempts, n.mails_sent
    """
)
_SETTLE = text(
    """
    UPDATE key_notices n
       SET status = CASE WHEN EXISTS (SELECT 1 FROM key_notice_items i
                                       WHERE i.kind = n.kind AND i.batch_id = n.batch_id
                                         AND i.owner_email = n.owner_email
                                         AND i.notified_at IS NULL) THEN 'pending' ELSE 'sent' END,
           mails_sent = n.mails_sent + :mailed, attempts = 0, claim_id = NULL, last_error = NULL, updated_at = now()
     WHERE n.kind = :kind AND n.batch_id = :batch AND n.owner_email = :owner
    """
)


@dataclass
class KeyNotices:
    engine: AsyncEngine
    mailer: SmtpMailer
    schedule: RetrySchedule
    mail_from: str
    poll_interval: float = 1.0
    lease: float = 120.0

    async def run(self) -> None:
        while True:
            if not await self.send_due():
                await asyncio.sleep(self.poll_interval)

    async def send_due(self, limit: int = 20) -> int:
        claim = uuid.uuid4()
        async with self.engine.begin() as conn:
            due = list(await conn.execute(_CLAIM, {"claim": claim, "lease": self.lease, "n": limit}))
        await asyncio.gather(*(self._send(row, claim) for row in due))
        return len(due)

    async def _send(self, notice: Row[Any], claim: uuid.UUID) -> None:
        item = key_notice_items.c
        of_notice = and_(
            item.kind == notice.kind, item.batch_id == notice.batch_id, item.owner_email == notice.owner_email
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(key_notice_items)
                .where(of_notice, item.notified_at.is_(None))
                .order_by(item.provet_id, item.name, item.api_key_id)
            )
            items = [dict(r._mapping) for r in rows]
        if not items:  # a follow-up claimed after its keys went out with the previous mail
            async with self.engine.begin() as conn:
                # Settled like a sent mail: a key that arrived since the query above keeps it pending.
                await conn.execute(_SETTLE, self._settle_params(notice, mailed=0))
            return
        if past_deadline(notice.kind, items, datetime.now(UTC)):
            await self._expire(notice, claim)
            log.warning("key revocation reminder expired unsent", batch_id=str(notice.batch_id), keys=len(items))
            return
        mail = notice_mail(notice.kind, notice.batch_id, notice.owner_email, notice.mails_sent, items)
        result = await self.mailer.send(render(mail, self.mail_from, datetime.now(UTC)))
        async with self.engine.begin() as conn:
            if result.verdict is Verdict.DELIVERED:
                notified = and_(of_notice, item.api_key_id.in_([i["api_key_id"] for i in items]))
                await conn.execute(update(key_notice_items).where(notified).values(notified_at=datetime.now(UTC)))
                await conn.execute(_SETTLE, self._settle_params(notice, mailed=1))
            else:
                await self._retry_or_fail(conn, notice, claim, result.verdict, result.smtp_reply or result.error)
        log.info(
            "key notice",
            kind=notice.kind,
            batch_id=str(notice.batch_id),
            keys=len(items),
            verdict=result.verdict.value,
            smtp_reply=result.smtp_reply,
            error=result.error,
        )

    async def _expire(self, notice: Row[Any], claim: uuid.UUID) -> None:
        async with self.engine.begin() as conn:
            expired = {"status": "expired", "claim_id": None, "updated_at": datetime.now(UTC)}
            await conn.execute(update(key_notices).where(_claimed(notice, claim)).values(**expired))

    @staticmethod
    def _settle_params(notice: Row[Any], mailed: int) -> dict[str, Any]:
        return {"kind": notice.kind, "batch": notice.batch_id, "owner": notice.owner_email, "mailed": mailed}

    async def _retry_or_fail(
        self, conn: AsyncConnection, notice: Row[Any], claim: uuid.UUID, verdict: Verdict, error: str | None
    ) -> None:
        delay = self.schedule.next_delay(notice.attempts) if verdict is Verdict.RETRY else None
        values: dict[str, Any] = {"claim_id": None, "last_error": error, "updated_at": datetime.now(UTC)}
        if delay is None:
            values["status"] = "failed"
        else:
            values["due_at"] = datetime.now(UTC) + timedelta(seconds=delay)
        await conn.execute(update(key_notices).where(_claimed(notice, claim)).values(**values))


def _claimed(notice: Row[Any], claim: uuid.UUID) -> ColumnElement[bool]:
    """The notice, as long as this claim still holds it (a lapsed lease may have passed it on)."""
    n = key_notices.c
    return and_(
        n.kind == notice.kind, n.batch_id == notice.batch_id, n.owner_email == notice.owner_email, n.claim_id == claim
    )
