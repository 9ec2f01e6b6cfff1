"""Catalogue's events in, each handled inside the consumer's inbox transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.catalogue import IntegrationActivated, IntegrationDeactivated, TemplatePermissionsChanged
from vetgate_messaging.consumer import Delivery, EventConsumer

from vetgate_provisioning.adapters.store import PostgresStore
from vetgate_provisioning.service_layer.activations import Activations
from vetgate_provisioning.service_layer.permission_sync import sync_template_permissions


@dataclass(frozen=True)
class CatalogueEventHandlers:
    activations: Activations
    source: str

    def register(self, consumer: EventConsumer) -> None:
        # A go-live is thousands of activations in a row: provision them many per transaction.
        consumer.handles_batch(IntegrationActivated)(self.on_activated)
        consumer.handles(IntegrationDeactivated)(self.on_deactivated)
        consumer.handles(TemplatePermissionsChanged)(self.on_template_permissions_changed)

    async def on_activated(self, batch: list[tuple[IntegrationActivated, Delivery]], conn: AsyncConnection) -> None:
        await self.activations.activate([event for event, _ in batch], PostgresStore(conn, self.source))

    async def on_deactivated(self, event: IntegrationDeactivated, conn: AsyncConnection, _: Delivery) -> None:
        await self.activations.deactivate(event, PostgresStore(conn, self.source))

    async def on_template_permissions_changed(
        self, event: TemplatePermissionsChanged, conn: AsyncConnection, _: Delivery
    ) -> None:
        await sync_template_permissions(event, PostgresStore(conn, self.source))
