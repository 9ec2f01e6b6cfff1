"""Events produced by the token service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from vetgate_events import topics
from vetgate_events.base import IntegrationEvent
from vetgate_events.common import ClientType, Delivery, GrantType, ProvetId, SealedValue


class CredentialsIssued(IntegrationEvent):
    """The token service accepts these credentials now: they may be delivered to the owner."""

    topic = topics.TOKEN_CREDENTIALS

    delivery_id: UUID = Field(description="One credential delivery; stable across retries and replays")
    activation_id: UUID
    template_id: UUID
    provet_id: ProvetId
    client_id: str
    integration_name: str
    grant_type: GrantType
    client_type: ClientType
    redirect_uris: list[str] = Field(default_factory=list)
    sealed_secret: SealedValue | None = Field(description="Passed through untouched from provisioning")
    id_token_algorithm: str | None
    token_url: str
    authorize_url: str
    openid_autodiscovery_url: str
    delivery: Delivery
    issued_at: datetime

    def partition_key(self) -> str:
        return str(self.activation_id)


class TokenRevoked(IntegrationEvent):
    """Tokens that resource servers must refuse from now on: one token (jti) or a watermark."""

    topic = topics.TOKEN_REVOCATIONS

    revocation_id: UUID
    provet_id: ProvetId
    jti: str | None = None
    client_id: str | None = None
    subject: str | None = None
    issued_before: datetime | None = Field(
        default=None, description="With client_id/subject: every token issued before this instant"
    )
    reason: str
    revoked_at: datetime
    relevant_until: datetime = Field(description="After this every affected token has expired anyway")

    def partition_key(self) -> str:
        return self.client_id or self.jti or str(self.revocation_id)


class ClientDisabled(IntegrationEvent):
    """The token service stopped accepting a client."""

    topic = topics.TOKEN_REVOCATIONS

    client_id: str
    provet_id: ProvetId
    reason: str
    disabled_at: datetime

    def partition_key(self) -> str:
        return self.client_id


Environment = Literal["production", "sandbox"]


class ApiKeyCreated(IntegrationEvent):
    """A legacy API key was created (before the cut-off, or under a support exception)."""

    topic = topics.TOKEN_API_KEYS

    api_key_id: UUID
    provet_id: ProvetId
    environment: Environment
    name: str
    integration: str | None = None
    owner_email: str | None = None
    under_exception: bool = False
    created_at: datetime

    def partition_key(self) -> str:
        return str(self.api_key_id)


class KeyRevoked(IntegrationEvent):
    """A legacy API key was revoked (by the policy deadline or on demand)."""

    topic = topics.TOKEN_API_KEYS

    api_key_id: UUID
    provet_id: ProvetId
    environment: Environment
    integration: str | None = None
    owner_email: str | None = None
    revocation_batch_id: UUID = Field(description="Owners get one notice per batch, not per key")
    reason: str
    revoked_at: datetime

    def partition_key(self) -> str:
        return str(self.api_key_id)


class KeyRevocationReminder(IntegrationEvent):
    """A legacy API key is still active and its environment's revocation deadline is near.

    One event per key and reminder point; the notifier mails each owner once per ``reminder_batch_id``
    (the same batch id for every key of one environment, deadline and reminder point), listing their keys.
    """

    topic = topics.TOKEN_API_KEYS

    api_key_id: UUID
    provet_id: ProvetId
    environment: Environment
    name: str
    integration: str | None = None
    owner_email: str
    reminder_batch_id: UUID = Field(description="Owners get one reminder per batch, not per key")
    revocation_deadline: datetime
    last_used_at: datetime | None = None
    reminded_at: datetime

    def partition_key(self) -> str:
        return str(self.api_key_id)
