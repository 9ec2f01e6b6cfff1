"""What the notifier does with the token service's events, inside the consumer's inbox transaction.

Nothing is sent here: a delivery or a notice is written to Postgres and the dispatchers are woken at
commit. A replayed CredentialsIssued finds its delivery already in the ledger and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.token import CredentialsIssued, KeyRevocationReminder, KeyRevoked
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_platform.logs import get_logger

from vetgate_notifier.adapters.ledger import Ledger
from vetgate_notifier.adapters.tables import deliveries, key_notice_items, key_notices
from vetgate_notifier.domain.schedule import RetrySchedule
from vetgate_notifier.service_layer.key_notice_mails import NoticeKind

log = get_logger(__name__)


@dataclass
class Intake:
    ledger: Ledger
    schedule: RetrySchedule
    notice_quiet: float

    def register(self, consumer: EventConsumer) -> None:
        consumer.handles_batch(CredentialsIssued)(self.on_credentials_issued)
        consumer.handles(KeyRevoked)(self.on_key_revoked)
        consumer.handles(KeyRevocationReminder)(self.on_key_revocation_reminder)

    async def on_credentials_issued(
        self, batch: list[tuple[CredentialsIssued, Delivery]], conn: AsyncConnection
    ) -> None:
        """A run of CredentialsIssued from one partition, in one transaction (a go-live fans out).

        An operator's reprocess (``vetgate republish --reprocess``) also redoes deliveries that failed;
        a delivered or still pending one is left alone — nothing is sent twice."""
        await self.ledger.add(conn, [event for event, _ in batch], self.schedule.first_delay())
        failed_again = [event.delivery_id for event, d in batch if d.reprocess_job]
        if failed_again:
            row = deliveries.c
            redone = await self.ledger.redeliver(conn, row.delivery_id.in_(failed_again) & (row.status == "failed"))
            if redone:
                log.info("failed deliveries queued again by reprocess", deliveries=len(redone))

    async def on_key_revoked(self, event: KeyRevoked, conn: AsyncConnection, _: Delivery) -> None:
        key = {"reason": event.reason, "revoked_at": event.revoked_at}
        await self._collect(conn, "revoked", event.revocation_batch_id, event, key)

    async def on_key_revocation_reminder(
        self, event: KeyRevocationReminder, conn: AsyncConnection, _: Delivery
    ) -> None:
        if event.revocation_deadline <= datetime.now(UTC):
            # Read late (an outage, a replay): the key is revoked by now, or was spared; either way a
            # reminder would be false. The owner hears of a revocation from its KeyRevoked notice.
            return
        key = {"name": event.name, "last_used_at": event.last_used_at, "revocation_deadline": event.revocation_deadline}
        await self._collect(conn, "reminder", event.reminder_batch_id, event, key)

    async def _collect(
        self,
        conn: AsyncConnection,
        kind: NoticeKind,
        batch_id: UUID,
        event: KeyRevoked | KeyRevocationReminder,
        fields: dict[str, Any],
    ) -> None:
        """Collect the key into its owner's notice of this kind and batch; the notice goes out once the
        batch has been quiet for ``notice_quiet`` seconds (one mail per batch and owner, not one per key).
        A key already collected (a redelivered or replayed event) changes nothing."""
        owner = (event.owner_email or "").strip().lower()
        if not owner:
            return  # nobody to tell
        added = await conn.execute(
            insert(key_notice_items)
            .values(
                kind=kind,
                batch_id=batch_id,
                owner_email=owner,
                api_key_id=event.api_key_id,
                provet_id=event.provet_id,
                environment=event.environment,
                integration=event.integration,
                **fields,
            )
            .on_conflict_do_nothing()
            .returning(key_notice_items.c.api_key_id)
        )
        if added.first() is None:
            return
        due = func.now() + text(f"interval '{float(self.notice_quiet)} seconds'")
        notice = insert(key_notices).values(
            kind=kind, batch_id=batch_id, owner_email=owner, status="pending", due_at=due
        )
        await conn.execute(
            notice.on_conflict_do_update(
                index_elements=["kind", "batch_id", "owner_email"],
                # Each new key pushes the mail back: the batch is still running.
                set_={"status": "pending", "due_at": due, "updated_at": func.now()},
            )
        )
