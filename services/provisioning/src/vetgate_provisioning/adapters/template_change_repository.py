"""Template permission changes in Postgres (within the caller's transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection

from vetgate_provisioning.adapters.tables import template_permission_changes as changes
from vetgate_provisioning.domain.template_changes import TemplateChange


class PostgresTemplateChanges:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, change: TemplateChange) -> None:
        await self._conn.execute(
            upsert(changes)
            .values(
                template_id=change.template_id,
                changed_at=change.changed_at,
                added=list(change.added),
                removed=list(change.removed),
            )
            .on_conflict_do_nothing()
        )

    async def since(self, template_ids: Collection[uuid.UUID], after: datetime) -> list[TemplateChange]:
        query = (
            select(changes)
            .where(changes.c.template_id.in_(list(template_ids)), changes.c.changed_at > after)
            .order_by(changes.c.changed_at)
        )
        return [
            TemplateChange(r.template_id, r.changed_at, tuple(r.added), tuple(r.removed))
            for r in await self._conn.execute(query)
        ]
