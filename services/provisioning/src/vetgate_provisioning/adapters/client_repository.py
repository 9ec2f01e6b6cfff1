"""Activations, their clients and secret hashes in Postgres (within the caller's transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.common import Delivery

from vetgate_provisioning.adapters.tables import activations, client_secrets, clients
from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.service_layer.ports import ActivationKey

_DELIVERY: TypeAdapter[Delivery] = TypeAdapter(Delivery)

# Arrays in, one statement per run of activations: compiling a many-row VALUES list per run cost more
# than the database work itself.
_CLAIM = text(
    "INSERT INTO activations (activation_id, provet_id, template_id, status)"
    " SELECT a, p, t, 'active' FROM unnest("
    "CAST(:activation_ids AS uuid[]), CAST(:provet_ids AS integer[]), CAST(:template_ids AS uuid[])) AS u(a, p, t)"
    " ON CONFLICT (activation_id) DO NOTHING RETURNING activation_id"
).columns(activations.c.activation_id)


class PostgresClients:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim_activations(self, keys: Sequence[ActivationKey]) -> set[uuid.UUID]:
        # A concurrent claim of the same id waits here until the first commits, then finds it taken.
        claimed = await self._conn.execute(
            _CLAIM,
            {
                "activation_ids": [a for a, _, _ in keys],
                "provet_ids": [p for _, p, _ in keys],
                "template_ids": [t for _, _, t in keys],
            },
        )
        return set(claimed.scalars())

    async def add(self, new_clients: Sequence[tuple[Client, str | None]]) -> None:
        if not new_clients:
            return
        await self._conn.execute(insert(clients), [_row(client) for client, _ in new_clients])
        secrets = [
            {"client_id": client.client_id, "generation": 1, "secret_hash": secret_hash}
            for client, secret_hash in new_clients
            if secret_hash is not None
        ]
        if secrets:
            await self._conn.execute(insert(client_secrets), secrets)

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


def _row(client: Client) -> dict[str, object]:
    return {
        "client_id": client.client_id,
        "activation_id": client.activation_id,
        "provet_id": client.provet_id,
        "template_id": client.template_id,
        "integration_name": client.integration_name,
        "grant_type": client.grant_type,
        "client_type": client.client_type,
        "redirect_uris": list(client.redirect_uris),
        "virtual_user_id": client.virtual_user_id,
        "delivery": client.delivery.model_dump(mode="json"),
    }


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
