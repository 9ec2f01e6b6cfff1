"""The events this service emits, built from its records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.catalogue import IntegrationActivated
from vetgate_events.common import Delivery, EmailDelivery, HookDelivery, SealedValue

from vetgate_catalogue.adapters.tables import webhook_secrets
from vetgate_catalogue.domain.templates import EmailAddressDelivery, TemplateSpec

SOURCE = "/vetgate/catalogue"


async def delivery_for(conn: AsyncConnection, template_id: uuid.UUID, spec: TemplateSpec, now: datetime) -> Delivery:
    """The delivery an activation carries: for hooks, every signing secret valid now (current first)."""
    if isinstance(spec.delivery, EmailAddressDelivery):
        return EmailDelivery(
            address=str(spec.delivery.address), owner_name=spec.owner.name, secret_in_body=spec.delivery.secret_in_body
        )
    rows = await conn.execute(
        select(webhook_secrets.c.sealed)
        .where(webhook_secrets.c.template_id == template_id)
        .where(or_(webhook_secrets.c.retired_at.is_(None), webhook_secrets.c.retired_at > now))
        .order_by(webhook_secrets.c.retired_at.desc().nulls_first())
    )
    return HookDelivery(url=spec.delivery.url, signing_secrets=[SealedValue.model_validate(r.sealed) for r in rows])


def activation_event(
    activation_id: uuid.UUID,
    template_id: uuid.UUID,
    provet_id: int,
    spec: TemplateSpec,
    delivery: Delivery,
    now: datetime,
) -> IntegrationActivated:
    return IntegrationActivated(
        activation_id=activation_id,
        template_id=template_id,
        provet_id=provet_id,
        integration_name=spec.name,
        grant_type=spec.grant_type,
        client_type=spec.client_type,
        redirect_uris=spec.redirect_uris,
        permissions=spec.permissions,
        delivery=delivery,
        activated_at=now,
    )
