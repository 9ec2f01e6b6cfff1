"""Installations: added by a tenant or by a go-live, removed by the tenant, their status fed by the notifier."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events.catalogue import IntegrationDeactivated
from vetgate_events.notifier import CredentialsDelivered, CredentialsDeliveryFailed
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_messaging.outbox import add_event, add_events
from vetgate_platform.logs import get_logger

from vetgate_catalogue.adapters.tables import activations, templates
from vetgate_catalogue.domain.activations import ActivationStatus, after_delivered, after_delivery_failed
from vetgate_catalogue.domain.templates import TemplateSpec, TemplateState
from vetgate_catalogue.service_layer.errors import CatalogueError, not_found
from vetgate_catalogue.service_layer.events import SOURCE, activation_event, delivery_for

log = get_logger(__name__)
_LIVE = activations.c.status != ActivationStatus.DEACTIVATED


@dataclass(frozen=True)
class ActivationRow:
    id: uuid.UUID
    template_id: uuid.UUID
    provet_id: int
    status: ActivationStatus
    origin: str
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> ActivationRow:
        return cls(
            row.id,
            row.template_id,
            row.provet_id,
            ActivationStatus(row.status),
            row.origin,
            row.last_error,
            row.created_at,
            row.updated_at,
        )


@dataclass(frozen=True)
class CatalogueEntry:
    template_id: uuid.UUID
    spec: TemplateSpec
    state: TemplateState
    installation: ActivationRow | None


async def create_activations(
    conn: AsyncConnection, template_id: uuid.UUID, spec: TemplateSpec, tenants: list[int], *, origin: str, now: datetime
) -> tuple[list[ActivationRow], list[int]]:
    """Add the template to every tenant that does not have it yet (the template row is locked by the caller,
    so two adds cannot race past the check); returns the new activations and the tenants skipped."""
    wanted = sorted(set(tenants))
    existing = await conn.execute(
        select(activations.c.provet_id).where(
            activations.c.template_id == template_id, activations.c.provet_id.in_(wanted), _LIVE
        )
    )
    already = {r.provet_id for r in existing}
    new = [
        ActivationRow(uuid.uuid4(), template_id, pid, ActivationStatus.PENDING, origin, None, now, now)
        for pid in wanted
        if pid not in already
    ]
    if not new:
        return [], sorted(already)
    rows = [
        {"id": a.id, "template_id": template_id, "provet_id": a.provet_id, "status": a.status, "origin": origin}
        for a in new
    ]
    await conn.execute(insert(activations), rows)
    delivery = await delivery_for(conn, template_id, spec, now)
    # The event id is the activation id: whatever re-sends this activation, consumers see one event.
    events = [(activation_event(a.id, template_id, a.provet_id, spec, delivery, now), a.id) for a in new]
    await add_events(conn, events, source=SOURCE)
    return new, sorted(already)


class Applications:
    """A tenant's side: browse the catalogue, add, inspect and remove applications."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def catalogue(self, provet_id: int) -> list[CatalogueEntry]:
        """What the tenant may add, and what it has added (even if since unpublished)."""
        async with self._engine.connect() as conn:
            installed = {
                a.template_id: a for a in await self._rows(conn, [activations.c.provet_id == provet_id, _LIVE])
            }
            rows = (await conn.execute(select(templates).order_by(templates.c.created_at))).all()
        entries = []
        for row in rows:
            spec, state = TemplateSpec.model_validate(row.spec), TemplateState(row.state)
            installation = installed.get(row.id)
            if installation is not None or spec.installable_by(provet_id, state):
                entries.append(CatalogueEntry(row.id, spec, state, installation))
        return entries

    async def add(self, provet_id: int, template_id: uuid.UUID) -> ActivationRow:
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            row = (await conn.execute(select(templates).where(templates.c.id == template_id).with_for_update())).first()
            spec = TemplateSpec.model_validate(row.spec) if row is not None else None
            if row is None or spec is None or not spec.installable_by(provet_id, TemplateState(row.state)):
                raise not_found(f"template {template_id} in the catalogue of tenant {provet_id}")
            added, _ = await create_activations(conn, template_id, spec, [provet_id], origin="tenant", now=now)
            if not added:
                raise CatalogueError(
                    409,
                    "already_added",
                    f"'{spec.name}' is already added to tenant {provet_id}; remove that application first",
                )
        log.info("application added", activation_id=str(added[0].id), provet_id=provet_id, template_id=str(template_id))
        return added[0]

    async def get(self, provet_id: int, activation_id: uuid.UUID) -> ActivationRow:
        async with self._engine.connect() as conn:
            found = await self._rows(conn, [activations.c.id == activation_id, activations.c.provet_id == provet_id])
        if not found:
            raise not_found(f"application {activation_id} of tenant {provet_id}")
        return found[0]

    async def of_tenant(self, provet_id: int) -> list[ActivationRow]:
        async with self._engine.connect() as conn:
            return await self._rows(conn, [activations.c.provet_id == provet_id])

    async def remove(self, provet_id: int, activation_id: uuid.UUID) -> ActivationRow:
        """Deactivate (idempotent: removing a removed application changes and emits nothing)."""
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            found = await self._rows(
                conn, [activations.c.id == activation_id, activations.c.provet_id == provet_id], lock=True
            )
            if not found:
                raise not_found(f"application {activation_id} of tenant {provet_id}")
            current = found[0]
            if current.status == ActivationStatus.DEACTIVATED:
                return current
            await conn.execute(
                update(activations)
                .where(activations.c.id == activation_id)
                .values(status=ActivationStatus.DEACTIVATED, updated_at=now)
            )
            event = IntegrationDeactivated(
                activation_id=activation_id, template_id=current.template_id, provet_id=provet_id, deactivated_at=now
            )
            await add_event(conn, event, source=SOURCE)
            removed = await self._rows(conn, [activations.c.id == activation_id])
        log.info("application removed", activation_id=str(activation_id), provet_id=provet_id)
        return removed[0]

    @staticmethod
    async def _rows(conn: AsyncConnection, where: list[Any], *, lock: bool = False) -> list[ActivationRow]:
        query = select(activations).where(*where).order_by(activations.c.created_at)
        rows = await conn.execute(query.with_for_update() if lock else query)
        return [ActivationRow.from_row(r) for r in rows]


class DeliveryOutcomes:
    """The notifier's outcomes move an activation to ``active`` or ``delivery_failed``."""

    def register(self, consumer: EventConsumer) -> None:
        consumer.handles(CredentialsDelivered)(self.on_delivered)
        consumer.handles(CredentialsDeliveryFailed)(self.on_failed)

    async def on_delivered(self, event: CredentialsDelivered, conn: AsyncConnection, d: Delivery) -> None:
        await _move(conn, event.activation_id, after_delivered, error=None)

    async def on_failed(self, event: CredentialsDeliveryFailed, conn: AsyncConnection, d: Delivery) -> None:
        await _move(conn, event.activation_id, after_delivery_failed, error=event.last_error)


async def _move(
    conn: AsyncConnection,
    activation_id: uuid.UUID,
    rule: Callable[[ActivationStatus], ActivationStatus],
    *,
    error: str | None,
) -> None:
    row = (await conn.execute(select(activations).where(activations.c.id == activation_id).with_for_update())).first()
    if row is None:
        log.warning("delivery outcome for an unknown activation", activation_id=str(activation_id))
        return
    status = rule(ActivationStatus(row.status))
    await conn.execute(
        update(activations)
        .where(activations.c.id == activation_id)
        .values(status=status, last_error=error, updated_at=datetime.now(UTC))
    )
