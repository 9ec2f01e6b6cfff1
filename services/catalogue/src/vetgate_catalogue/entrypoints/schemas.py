"""Request and response bodies of the catalogue API (ARCHITECTURE.md "Public contract")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from vetgate_events.common import ProvetId

from vetgate_catalogue.domain.templates import DeliveryChoice, Owner, TemplateSpec
from vetgate_catalogue.service_layer.activations import ActivationRow, CatalogueEntry
from vetgate_catalogue.service_layer.templates import NewWebhookSecret, TemplateRecord


class TemplatePatch(BaseModel):
    """Any subset of a template's fields; the merged template must still be valid."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    owner: Owner | None = None
    grant_type: str | None = None
    client_type: str | None = None
    redirect_uris: list[str] | None = None
    delivery: DeliveryChoice | None = None
    permissions: list[str] | None = None
    sandbox_tenants: list[int] | None = None
    setup_instructions: str | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: list[ProvetId] = Field(default_factory=list, description="provet_ids to add the template to now")


class RotationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: Annotated[int, Field(ge=0, le=30 * 86_400)] | None = None


class AddApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: uuid.UUID


class TemplateOut(TemplateSpec):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    state: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    webhook_secret: str | None = Field(
        default=None, description="whsec_ signing secret: present once, in the answer that created it"
    )

    @classmethod
    def of(cls, record: TemplateRecord, whsec: NewWebhookSecret | None = None) -> TemplateOut:
        return cls(
            **record.spec.model_dump(),
            id=record.id,
            state=record.state,
            created_at=record.created_at,
            updated_at=record.updated_at,
            published_at=record.published_at,
            webhook_secret=whsec.value if whsec else None,
        )


class ApplicationOut(BaseModel):
    id: uuid.UUID
    template_id: uuid.UUID
    provet_id: int
    status: str
    origin: str
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ActivationRow) -> ApplicationOut:
        return cls(
            id=row.id,
            template_id=row.template_id,
            provet_id=row.provet_id,
            status=row.status,
            origin=row.origin,
            last_error=row.last_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class GoLiveOut(BaseModel):
    template: TemplateOut
    activations: list[ApplicationOut]
    already_added: list[int] = Field(description="Tenants that had the template already: nothing was done there")


class RotationOut(BaseModel):
    webhook_secret: str
    previous_secret_valid_until: datetime | None


class CatalogueItem(BaseModel):
    template_id: uuid.UUID
    name: str
    description: str
    owner: dict[str, str]
    setup_instructions: str
    grant_type: str
    client_type: str
    in_sandbox: bool = Field(description="Not public yet: offered to this tenant as a sandbox tenant")
    added: bool
    application: ApplicationOut | None

    @classmethod
    def of(cls, entry: CatalogueEntry) -> CatalogueItem:
        spec = entry.spec
        return cls(
            template_id=entry.template_id,
            name=spec.name,
            description=spec.description,
            owner={"name": spec.owner.name, "email": str(spec.owner.email)},
            setup_instructions=spec.setup_instructions,
            grant_type=spec.grant_type,
            client_type=spec.client_type,
            in_sandbox=entry.state != "live",
            added=entry.installation is not None,
            application=ApplicationOut.of(entry.installation) if entry.installation else None,
        )


class CatalogueOut(BaseModel):
    provet_id: int
    integrations: list[CatalogueItem]
