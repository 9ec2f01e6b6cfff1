"""The events that tell the platform how a delivery ended, with ids derived from what happened.

``uuid5(delivery, outcome, generation)``: a replay, a retried transaction or a second replica can
only ever produce the same event id, so the outcome of one generation is announced once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events import IntegrationEvent
from vetgate_events.notifier import CredentialsDelivered, CredentialsDeliveryFailed
from vetgate_messaging.outbox import add_events

from vetgate_notifier.adapters.ledger import Recorded, Transition

_OUTCOMES = uuid.UUID("0c8e8a52-61a4-4f0f-9f3e-7d3c1b0e2a91")
SOURCE = "/vetgate/notifier"


def outcome_event_id(delivery_id: uuid.UUID, outcome: Transition, generation: int) -> uuid.UUID:
    return uuid.uuid5(_OUTCOMES, f"{delivery_id}:{outcome}:{generation}")


async def announce(conn: AsyncConnection, transitions: Sequence[tuple[Recorded, Transition]]) -> None:
    """Stage the outcome events of a batch in the outbox (one round trip)."""
    await add_events(conn, [_outcome(recorded, transition) for recorded, transition in transitions], source=SOURCE)


def _outcome(recorded: Recorded, transition: Transition) -> tuple[IntegrationEvent, uuid.UUID]:
    claimed, last_error = recorded.claimed, recorded.result.error
    issued = claimed.credentials
    common = {
        "delivery_id": issued.delivery_id,
        "activation_id": issued.activation_id,
        "provet_id": issued.provet_id,
        "client_id": issued.client_id,
        "channel": issued.delivery.kind,
        "attempts": claimed.attempt,
    }
    now = datetime.now(UTC)
    event: CredentialsDelivered | CredentialsDeliveryFailed
    if transition == "delivered":
        event = CredentialsDelivered(**common, delivered_at=now)
    else:
        event = CredentialsDeliveryFailed(**common, last_error=last_error or "failed", failed_at=now)
    return event, outcome_event_id(issued.delivery_id, transition, claimed.generation)
