"""What the notifier does with the token service's events, inside the consumer's inbox transaction.

Nothing is sent here: a delivery or a notice is written to Postgres and the dispatchers are woken at
commit. A replayed CredentialsIssued finds its delivery already in the ledger and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
        # Batches: a mass revocation (or a reminder point) brings tens of thousands of these at once.
        consumer.handles_batch(KeyRevoked)(self.on_keys_revoked)
        consumer.handles_batch(KeyRevocationReminder)(self.on_key_revocation_reminders)

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

    async def on_keys_revoked(self, batch: list[tuple[KeyRevoked, Delivery]], conn: AsyncConnection) -> None:
        keys = [(e.revocation_batch_id, e, {"reason": e.reason, "revoked_at": e.revoked_at}) for e, _ in batch]
        await self._collect(conn, "revoked", keys)

    async def on_key_revocation_reminders(
        self, batch: list[tuple[KeyRevocationReminder, Delivery]], conn: AsyncConnection
    ) -> None:
        now = datetime.now(UTC)
        # Read late (an outage, a replay), a reminder would be false: the key is revoked by now, or was
        # spared. The owner hears of a revocation from its KeyRevoked notice.
        keys = [
            (
                e.reminder_batch_id,
                e,
                {"name": e.name, "last_used_at": e.last_used_at, "revocation_deadline": e.revocation_deadline},
            )
            for e, _ in batch
            if e.revocation_deadline > now
        ]
        await self._collect(conn, "reminder", keys)

    async def _collect(
        self,
        conn: AsyncConnection,
        kind: NoticeKind,
        keys: Sequence[tuple[UUID, KeyRevoked | KeyRevocationReminder, Mapping[str, Any]]],
    ) -> None:
        """Collect each key into its owner's notice of this kind and batch; a notice goes out once its
        batch has been quiet for ``notice_quiet`` seconds (one mail per batch and owner, not one per key).
        A key already collected (a redelivered or replayed event) changes nothing."""
        items = [
            {
                "kind": kind,
                "batch_id": batch_id,
                "owner_email": (event.owner_email or "").strip().lower(),
                "api_key_id": event.api_key_id,
                "provet_id": event.provet_id,
                "environment": event.environment,
                "integration": event.integration,
                **fields,
            }
            for batch_id, event, fields in keys
            if (event.owner_email or "").strip()  # nobody to tell otherwise
        ]
        if not items:
            return
        item = key_notice_items.c
        added = await conn.execute(
            insert(key_notice_items)
            .values(items)
            .on_conflict_do_nothing()
            .returning(item.kind, item.batch_id, item.owner_email)
        )
        notices = sorted({(row.batch_id, row.owner_email) for row in added})
        if not notices:
            return
        due = func.now() + text(f"interval '{float(self.notice_quiet)} seconds'")
        statement = insert(key_notices).values(
            [
                {"kind": kind, "batch_id": batch_id, "owner_email": owner, "status": "pending", "due_at": due}
                for batch_id, owner in notices
            ]
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["kind", "batch_id", "owner_email"],
                # Each new key pushes the mail back: the batch is still running.
                set_={"status": "pending", "due_at": due, "updated_at": func.now()},
            )
        )
