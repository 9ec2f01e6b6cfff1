"""Reading the ledger for the delivery log API: deliveries, their attempts, and what can be recovered."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Row, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from vetgate_notifier.adapters.tables import attempts, deliveries

_SUMMARY = (
    "delivery_id",
    "activation_id",
    "provet_id",
    "client_id",
    "integration_name",
    "channel",
    "status",
    "generation",
    "attempts",
    "last_error",
    "created_at",
    "delivered_at",
    "failed_at",
    "revealed_at",
)


def destination(channel: str, target: str) -> str:
    """Where it goes, without a hook URL's query or credentials (they may carry the owner's tokens)."""
    if channel != "hook_url":
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def summary(row: Row[Any]) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in _SUMMARY}
    data["destination"] = destination(row.channel, row.target)
    data["next_attempt_at"] = row.next_attempt_at if row.status == "pending" else None
    return data


def scope(provet_id: int | None, delivery_id: uuid.UUID | None = None) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = true()
    if provet_id is not None:
        condition &= deliveries.c.provet_id == provet_id
    if delivery_id is not None:
        condition &= deliveries.c.delivery_id == delivery_id
    return condition


class DeliveryLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(
        self,
        provet_id: int | None,
        *,
        status: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        d = deliveries.c
        query = select(deliveries).where(scope(provet_id)).order_by(d.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(d.status == status)
        if since is not None:
            query = query.where(d.created_at >= since)
        if before is not None:
            query = query.where(d.created_at < before)
        async with self._engine.connect() as conn:
            return [summary(r) for r in await conn.execute(query)]

    async def get(self, provet_id: int | None, delivery_id: uuid.UUID) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(deliveries).where(scope(provet_id, delivery_id)))).first()
            if row is None:
                return None
            tried = await conn.execute(
                select(attempts).where(attempts.c.delivery_id == delivery_id).order_by(attempts.c.id)
            )
            log = [
                {k: getattr(a, k) for k in ("generation", "attempt", "attempted_at", "latency_ms", "outcome")}
                | {"status_code": a.status_code, "smtp_reply": a.smtp_reply, "error": a.error}
                for a in tried
            ]
        return summary(row) | {"attempt_log": log}
