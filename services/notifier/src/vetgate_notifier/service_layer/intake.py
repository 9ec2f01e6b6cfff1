"""What the notifier does with the token service's events, inside the consumer's inbox transaction.

Nothing is sent here: a delivery or a notice is written to Postgres and the dispatchers are woken at
commit. A replayed CredentialsIssued finds its delivery already in the ledger and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.token import CredentialsIssued, KeyRevoked
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_platform.logs import get_logger

from vetgate_notifier.adapters.ledger import Ledger
from vetgate_notifier.adapters.tables import deliveries, key_notice_items, key_notices
from vetgate_notifier.domain.schedule import RetrySchedule

log = get_logger(__name__)


@dataclass
class Intake:
    ledger: Ledger
    schedule: RetrySchedule
    notice_quiet: float

    def register(self, consumer: EventConsumer) -> None:
        consumer.handles_batch(CredentialsIssued)(self.on_credentials_issued)
        consumer.handles(KeyRevoked)(self.on_key_revoked)

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
        """Collect the key into its owner's notice for this batch; the notice goes out once the batch
        has been quiet for ``notice_quiet`` seconds (one mail per batch and owner, not one per key)."""
        if not event.owner_email:
            return  # nobody to tell
        owner = event.owner_email.strip().lower()
        added = await conn.execute(
            insert(key_notice_items)
            .values(
                batch_id=event.revocation_batch_id,
                owner_email=owner,
                api_key_id=event.api_key_id,
                provet_id=event.provet_id,
                environment=event.environment,
                integration=event.integration,
                reason=event.reason,
                revoked_at=event.revoked_at,
            )
            .on_conflict_do_nothing()
            .returning(key_notice_items.c.api_key_id)
        )
        if added.first() is None:
            return
        due = func.now() + text(f"interval '{float(self.notice_quiet)} seconds'")
        notice = insert(key_notices).values(
            batch_id=event.revocation_batch_id, owner_email=owner, status="pending", due_at=due
        )
        await conn.execute(
            notice.on_conflict_do_update(
                index_elements=["batch_id", "owner_email"],
                # Each new key pushes the mail back: the batch is still running.
                set_={"status": "pending", "due_at": due, "updated_at": func.now()},
            )
        )
