"""Virtual users and their permission groups in Postgres (within the caller's transaction)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vetgate_provisioning.adapters.tables import virtual_users
from vetgate_provisioning.domain.virtual_users import NewVirtualUser, TenantTemplate, VirtualUser, virtual_user_name

_vu = virtual_users.c

# Added again after a removal: the same user (its id is in the tenant's records) and the group as the
# tenant left it, now serving the new client. One statement per run of activations (rows as JSON).
_ENABLE = text(
    """
    INSERT INTO virtual_users AS vu
        (id, provet_id, template_id, username, group_name, permissions, active, client_id, activation_id, version)
    SELECT r.id, r.provet_id, r.template_id, r.name, r.name, r.permissions, true, r.client_id, r.activation_id, 1
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        id uuid, provet_id integer, template_id uuid, name text, permissions text[], client_id text, activation_id uuid)
    ON CONFLICT ON CONSTRAINT virtual_users_tenant_template DO UPDATE SET
        active = true, client_id = excluded.client_id, activation_id = excluded.activation_id,
        version = vu.version + 1, updated_at = now()
    RETURNING vu.*
    """
).columns(*virtual_users.c)


class PostgresVirtualUsers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def enable(self, users: Sequence[NewVirtualUser]) -> dict[TenantTemplate, VirtualUser]:
        if not users:
            return {}
        rows = [
            {
                "id": str(uuid.uuid4()),
                "provet_id": u.provet_id,
                "template_id": str(u.template_id),
                "name": virtual_user_name(u.integration_name),
                "permissions": list(dict.fromkeys(u.permissions)),
                "client_id": u.client_id,
                "activation_id": str(u.activation_id),
            }
            for u in users
        ]
        enabled = [_user(row._mapping) for row in await self._conn.execute(_ENABLE, {"rows": json.dumps(rows)})]
        return {(u.provet_id, u.template_id): u for u in enabled}

    async def get(self, provet_id: int, virtual_user_id: uuid.UUID, *, lock: bool = False) -> VirtualUser | None:
        query = select(virtual_users).where(_vu.id == virtual_user_id, _vu.provet_id == provet_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _user(row._mapping)

    async def of_tenant(self, provet_id: int) -> list[VirtualUser]:
        query = select(virtual_users).where(_vu.provet_id == provet_id).order_by(_vu.username, _vu.id)
        return [_user(row._mapping) for row in await self._conn.execute(query)]

    async def of_template(self, template_id: uuid.UUID) -> list[VirtualUser]:
        # Locked in id order, so two syncs of one template cannot deadlock each other.
        query = select(virtual_users).where(_vu.template_id == template_id).order_by(_vu.id).with_for_update()
        return [_user(row._mapping) for row in await self._conn.execute(query)]

    async def save(self, users: Sequence[VirtualUser]) -> None:
        if not users:
            return
        statement = (
            update(virtual_users)
            .where(_vu.id == bindparam("user_id"))
            .values(
                permissions=bindparam("new_permissions"),
                active=bindparam("new_active"),
                version=bindparam("new_version"),
                updated_at=func.now(),
            )
        )
        rows = [
            {"user_id": u.id, "new_permissions": list(u.permissions), "new_active": u.active, "new_version": u.version}
            for u in users
        ]
        await self._conn.execute(statement, rows)

    async def disable_for_activation(self, activation_id: uuid.UUID) -> None:
        await self._conn.execute(
            update(virtual_users)
            .where(_vu.activation_id == activation_id, _vu.active.is_(True))
            .values(active=False, version=_vu.version + 1, updated_at=func.now())
        )


def _user(row: Any) -> VirtualUser:
    return VirtualUser(
        id=row["id"],
        provet_id=row["provet_id"],
        template_id=row["template_id"],
        name=row["username"],
        group_name=row["group_name"],
        permissions=tuple(row["permissions"]),
        active=row["active"],
        client_id=row["client_id"],
        activation_id=row["activation_id"],
        version=row["version"],
    )
