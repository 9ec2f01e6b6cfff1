"""One-time links that reveal an emailed client secret.

The mail carries a random token; only its SHA-256 is stored. Opening the link (GET) only shows a
button — mail scanners that follow links do not burn it; the reveal is an explicit POST, answered
once per delivery: a second POST, an expired link or a link of an earlier redelivery is refused.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_events.token import CredentialsIssued

from vetgate_notifier.adapters.tables import deliveries, reveal_links
from vetgate_notifier.service_layer.sealed import SecretOpener


class LinkState(StrEnum):
    READY = "ready"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Revealed:
    state: LinkState
    credentials: CredentialsIssued | None = None
    secret: str | None = None
    expires_at: datetime | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RevealLinks:
    def __init__(self, engine: AsyncEngine, base_url: str, ttl: timedelta, opener: SecretOpener) -> None:
        self._engine = engine
        self._base_url = base_url.rstrip("/")
        self._ttl = ttl
        self._opener = opener

    async def issue(self, delivery_id: uuid.UUID, generation: int) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        expires_at = datetime.now(UTC) + self._ttl
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(reveal_links).values(
                    token_hash=_hash(token), delivery_id=delivery_id, generation=generation, expires_at=expires_at
                )
            )
        return f"{self._base_url}/reveal/{token}", expires_at

    async def look(self, token: str) -> Revealed:
        """What the link would do, without using it."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(self._query(token))).first()
        return self._judge(row)

    async def reveal(self, token: str) -> Revealed:
        async with self._engine.begin() as conn:
            row = (await conn.execute(self._query(token).with_for_update())).first()
            judged = self._judge(row)
            if judged.state is not LinkState.READY or judged.credentials is None:
                return judged
            now = func.now()
            link = reveal_links.c.token_hash == _hash(token)
            await conn.execute(update(reveal_links).where(link).values(used_at=now))
            await conn.execute(
                update(deliveries).where(deliveries.c.delivery_id == row.delivery_id).values(revealed_at=now)
            )
            # Opened in memory for this answer only; a failure rolls the "used" marks back.
            secret = self._opener.client_secret(judged.credentials)
        return Revealed(LinkState.READY, judged.credentials, secret, judged.expires_at)

    def _query(self, token: str) -> Select[Any]:
        link, delivery = reveal_links.c, deliveries.c
        return (
            select(
                link.delivery_id,
                link.generation,
                link.expires_at,
                link.used_at,
                delivery.generation.label("current_generation"),
                delivery.revealed_at,
                delivery.credentials,
            )
            .join(deliveries, delivery.delivery_id == link.delivery_id)
            .where(link.token_hash == _hash(token))
        )

    @staticmethod
    def _judge(r: Row[Any] | None) -> Revealed:
        if r is None:
            return Revealed(LinkState.UNKNOWN)
        credentials = CredentialsIssued.model_validate(r.credentials)
        if r.used_at is not None or r.revealed_at is not None:
            return Revealed(LinkState.USED, credentials)
        stale = r.generation != r.current_generation
        if stale or r.expires_at <= datetime.now(UTC):
            return Revealed(LinkState.EXPIRED, credentials)
        return Revealed(LinkState.READY, credentials, expires_at=r.expires_at)
