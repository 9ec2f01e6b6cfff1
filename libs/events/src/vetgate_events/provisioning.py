"""Events produced by the provisioning service."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from vetgate_events import topics
from vetgate_events.base import IntegrationEvent
from vetgate_events.common import ClientType, Delivery, GrantType, ProvetId, SealedValue


class ClientProvisioned(IntegrationEvent):
    """Fresh client credentials for one activation (or a rotation of them).

    Carries the secret's keyed hash for the token service and the secret itself sealed to the
    notifier; never the plaintext.
    """

    topic = topics.PROVISIONING_CLIENTS

    client_id: str
    activation_id: UUID
    template_id: UUID
    provet_id: ProvetId
    integration_name: str
    grant_type: GrantType
    client_type: ClientType
    redirect_uris: list[str] = Field(default_factory=list)
    virtual_user_id: UUID | None = Field(description="None for authorization_code integrations")
    permissions: list[str] = Field(default_factory=list)
    secret_hash: str | None = Field(description="Keyed SHA-256 of the secret; None for public clients")
    sealed_secret: SealedValue | None
    previous_secret_valid_until: datetime | None = Field(
        default=None, description="Set on rotation: the old secret keeps working until then"
    )
    delivery: Delivery
    provisioned_at: datetime

    def partition_key(self) -> str:
        return self.client_id


class ClientRevoked(IntegrationEvent):
    """The activation was removed: the client must stop working and its tokens be revoked."""

    topic = topics.PROVISIONING_CLIENTS

    client_id: str
    activation_id: UUID
    provet_id: ProvetId
    reason: str
    revoked_at: datetime

    def partition_key(self) -> str:
        return self.client_id


class VirtualUserChanged(IntegrationEvent):
    """The virtual user behind a client changed rights or state."""

    topic = topics.PROVISIONING_CLIENTS

    virtual_user_id: UUID
    client_id: str
    provet_id: ProvetId
    username: str
    permissions: list[str]
    active: bool
    changed_at: datetime

    def partition_key(self) -> str:
        return self.client_id
