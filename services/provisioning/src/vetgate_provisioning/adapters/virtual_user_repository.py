"""Virtual users and their permission groups in Postgres (within the caller's transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection

from vetgate_provisioning.adapters.tables import virtual_users
from vetgate_provisioning.domain.virtual_users import VirtualUser, virtual_user_name

_vu = virtual_users.c


class PostgresVirtualUsers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def enable(
        self,
        *,
        provet_id: int,
        template_id: uuid.UUID,
        integration_name: str,
        permissions: Sequence[str],
        client_id: str,
        activation_id: uuid.UUID,
    ) -> VirtualUser:
        name = virtual_user_name(integration_name)
        statement = upsert(virtual_users).values(
            id=uuid.uuid4(),
            provet_id=provet_id,
            template_id=template_id,
            username=name,
            group_name=name,
            permissions=list(dict.fromkeys(permissions)),
            active=True,
            client_id=client_id,
            activation_id=activation_id,
            version=1,
        )
        # Added again after a removal: the same user (its id is in the tenant's records) and the
        # group as the tenant left it, serving the new client.
        reenable = statement.on_conflict_do_update(
            constraint="virtual_users_tenant_template",
            set_={
                "active": True,
                "client_id": statement.excluded.client_id,
                "activation_id": statement.excluded.activation_id,
                "version": _vu.version + 1,
                "updated_at": func.now(),
            },
        ).returning(*virtual_users.c)
        return _user((await self._conn.execute(reenable)).one()._mapping)

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
