"""Events produced by the catalogue service."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from vetgate_events import topics
from vetgate_events.base import IntegrationEvent
from vetgate_events.common import ClientType, Delivery, GrantType, ProvetId


class IntegrationPublished(IntegrationEvent):
    """A template went live: public in the catalogue and added to the named tenants."""

    topic = topics.CATALOGUE_TEMPLATES

    template_id: UUID
    name: str
    tenants: list[ProvetId]
    published_at: datetime

    def partition_key(self) -> str:
        return str(self.template_id)


class IntegrationActivated(IntegrationEvent):
    """A tenant added an integration (itself, or by a go-live): credentials must be minted once."""

    topic = topics.CATALOGUE_ACTIVATIONS

    activation_id: UUID
    template_id: UUID
    provet_id: ProvetId
    integration_name: str
    grant_type: GrantType
    client_type: ClientType
    redirect_uris: list[str] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    delivery: Delivery
    activated_at: datetime

    def partition_key(self) -> str:
        return str(self.activation_id)


class IntegrationDeactivated(IntegrationEvent):
    """A tenant removed an integration: its client and virtual user must stop working."""

    topic = topics.CATALOGUE_ACTIVATIONS

    activation_id: UUID
    template_id: UUID
    provet_id: ProvetId
    deactivated_at: datetime

    def partition_key(self) -> str:
        return str(self.activation_id)


class TemplatePermissionsChanged(IntegrationEvent):
    """Support changed a template's permission template: every tenant's group follows."""

    topic = topics.CATALOGUE_TEMPLATES

    template_id: UUID
    integration_name: str
    permissions: list[str]
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed_at: datetime

    def partition_key(self) -> str:
        return str(self.template_id)
