"""Events produced by the notifier service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from vetgate_events import topics
from vetgate_events.base import IntegrationEvent
from vetgate_events.common import ProvetId

Channel = Literal["hook_url", "email"]


class _DeliveryOutcome(IntegrationEvent):
    """What every outcome of a credential delivery says (keyed by activation, like its cause)."""

    topic = topics.NOTIFIER_DELIVERIES

    delivery_id: UUID
    activation_id: UUID
    provet_id: ProvetId
    client_id: str
    channel: Channel
    attempts: int

    def partition_key(self) -> str:
        return str(self.activation_id)


class CredentialsDelivered(_DeliveryOutcome):
    """The owner's endpoint accepted the credentials (2xx), or the mail server took the mail."""

    delivered_at: datetime


class CredentialsDeliveryFailed(_DeliveryOutcome):
    """Every attempt failed; the delivery stays recoverable."""

    last_error: str
    failed_at: datetime
