"""Events produced by the notifier service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from vetgate_events import topics
from vetgate_events.base import IntegrationEvent
from vetgate_events.common import ProvetId

Channel = Literal["hook_url", "email"]


class CredentialsDelivered(IntegrationEvent):
    """The owner's endpoint accepted the credentials (2xx), or the mail server took the mail."""

    topic = topics.NOTIFIER_DELIVERIES

    delivery_id: UUID
    activation_id: UUID
    provet_id: ProvetId
    client_id: str
    channel: Channel
    attempts: int
    delivered_at: datetime

    def partition_key(self) -> str:
        return str(self.activation_id)


class CredentialsDeliveryFailed(IntegrationEvent):
    """Every attempt failed; the delivery stays recoverable."""

    topic = topics.NOTIFIER_DELIVERIES

    delivery_id: UUID
    activation_id: UUID
    provet_id: ProvetId
    client_id: str
    channel: Channel
    attempts: int
    last_error: str
    failed_at: datetime

    def partition_key(self) -> str:
        return str(self.activation_id)
