"""The Postgres store: repositories and the outbox, all in one connection's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events import IntegrationEvent
from vetgate_messaging.outbox import add_events

from vetgate_provisioning.adapters.client_repository import PostgresClients
from vetgate_provisioning.adapters.template_change_repository import PostgresTemplateChanges
from vetgate_provisioning.adapters.virtual_user_repository import PostgresVirtualUsers


class PostgresStore:
    def __init__(self, conn: AsyncConnection, source: str) -> None:
        self.clients = PostgresClients(conn)
        self.virtual_users = PostgresVirtualUsers(conn)
        self.template_changes = PostgresTemplateChanges(conn)
        self._conn = conn
        self._source = source

    async def emit(self, events: Sequence[tuple[IntegrationEvent, uuid.UUID]]) -> None:
        await add_events(self._conn, list(events), source=self._source)
