"""Activations, their clients and secret hashes in Postgres (within the caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.common import Delivery

from vetgate_provisioning.adapters.tables import activations, client_secrets, clients
from vetgate_provisioning.domain.clients import Client

_DELIVERY: TypeAdapter[Delivery] = TypeAdapter(Delivery)


class PostgresClients:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim_activation(self, activation_id: uuid.UUID, provet_id: int, template_id: uuid.UUID) -> bool:
        # A concurrent claim of the same id waits here until the first commits, then finds it taken.
        claimed = await self._conn.execute(
            upsert(activations)
            .values(activation_id=activation_id, provet_id=provet_id, template_id=template_id, status="active")
            .on_conflict_do_nothing(index_elements=[activations.c.activation_id])
            .returning(activations.c.activation_id)
        )
        return claimed.first() is not None

    async def add(self, client: Client, secret_hash: str | None) -> None:
        await self._conn.execute(
            insert(clients).values(
                client_id=client.client_id,
                activation_id=client.activation_id,
                provet_id=client.provet_id,
                template_id=client.template_id,
                integration_name=client.integration_name,
                grant_type=client.grant_type,
                client_type=client.client_type,
                redirect_uris=list(client.redirect_uris),
                virtual_user_id=client.virtual_user_id,
                delivery=client.delivery.model_dump(mode="json"),
            )
        )
        if secret_hash is not None:
            await self._conn.execute(
                insert(client_secrets).values(client_id=client.client_id, generation=1, secret_hash=secret_hash)
            )

    async def get(self, provet_id: int, activation_id: uuid.UUID, *, lock: bool = False) -> Client | None:
        query = select(clients).where(clients.c.activation_id == activation_id, clients.c.provet_id == provet_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _client(row._mapping)

    async def end_activation(self, activation_id: uuid.UUID, provet_id: int, template_id: uuid.UUID) -> Client | None:
        ended = await self._conn.execute(
            update(activations)
            .where(activations.c.activation_id == activation_id, activations.c.status == "active")
            .values(status="removed", removed_at=func.now())
            .returning(activations.c.activation_id)
        )
        if ended.first() is None:
            # Never seen (its activation may sit in the DLQ) or removed already: remember it as removed.
            await self._conn.execute(
                upsert(activations)
                .values(activation_id=activation_id, provet_id=provet_id, template_id=template_id, status="removed")
                .values(removed_at=func.now())
                .on_conflict_do_nothing(index_elements=[activations.c.activation_id])
            )
            return None
        row = (
            await self._conn.execute(
                update(clients)
                .where(clients.c.activation_id == activation_id)
                .values(revoked_at=func.now())
                .returning(*clients.c)
            )
        ).first()
        return None if row is None else _client(row._mapping)

    async def rotate_secret(self, client_id: str, secret_hash: str, previous_valid_until: datetime) -> int:
        await self._conn.execute(
            update(client_secrets)
            .where(client_secrets.c.client_id == client_id, client_secrets.c.valid_until.is_(None))
            .values(valid_until=previous_valid_until)
        )
        latest = select(func.coalesce(func.max(client_secrets.c.generation), 0)).where(
            client_secrets.c.client_id == client_id
        )
        generation = int((await self._conn.execute(latest)).scalar_one()) + 1
        await self._conn.execute(
            insert(client_secrets).values(client_id=client_id, generation=generation, secret_hash=secret_hash)
        )
        return generation


def _client(row: Any) -> Client:
    return Client(
        client_id=row["client_id"],
        activation_id=row["activation_id"],
        template_id=row["template_id"],
        provet_id=row["provet_id"],
        integration_name=row["integration_name"],
        grant_type=row["grant_type"],
        client_type=row["client_type"],
        redirect_uris=tuple(row["redirect_uris"]),
        virtual_user_id=row["virtual_user_id"],
        delivery=_DELIVERY.validate_python(row["delivery"]),
        revoked=row["revoked_at"] is not None,
    )
