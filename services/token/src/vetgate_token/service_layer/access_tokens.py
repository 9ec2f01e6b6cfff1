"""Reading our own access tokens back: for introspection (RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.token import TokenRevoked
from vetgate_messaging.outbox import add_event

from vetgate_token.adapters.keys import ALGORITHM, KeyRing
from vetgate_token.adapters.tables import revocations
from vetgate_token.domain.claims import AUDIENCE, issuer

SOURCE = "/vetgate/token"


def decode_own_token(keys: KeyRing, token: str) -> dict[str, Any] | None:
    """The claims of a well-formed access token signed by one of our published keys, else None."""
    try:
        decoded = jwt.decode(token, KeySet(list(keys.verification_keys().values())), algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return None
    if decoded.header.get("typ") != "at+jwt":
        return None
    return dict(decoded.claims)


@dataclass(frozen=True)
class Introspection:
    base_url: str

    async def active_claims(
        self, conn: AsyncConnection, keys: KeyRing, token: str, provet_id: int
    ) -> dict[str, Any] | None:
        """Claims of a token that is valid right now at this tenant, or None (RFC 7662 §2.2 'active')."""
        claims = decode_own_token(keys, token)
        now = int(datetime.now(UTC).timestamp())
        if claims is None or claims.get("iss") != issuer(self.base_url, provet_id):
            return None  # a token of another tenant is not active here
        if claims.get("aud") != AUDIENCE or not claims.get("nbf", 0) <= now < claims.get("exp", 0):
            return None
        if await is_revoked(conn, claims):
            return None
        return claims


async def is_revoked(conn: AsyncConnection, claims: dict[str, Any]) -> bool:
    issued_at = datetime.fromtimestamp(claims["iat"], UTC)
    hit = await conn.execute(
        select(revocations.c.id)
        .where(
            or_(
                revocations.c.jti == claims["jti"],
                (revocations.c.client_id == claims["client_id"]) & (revocations.c.issued_before > issued_at),
            )
        )
        .limit(1)
    )
    return hit.first() is not None


async def revoke_token(conn: AsyncConnection, claims: dict[str, Any], reason: str) -> None:
    """Revoke one access token by jti and tell every resource server (TokenRevoked)."""
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    stored = await conn.execute(
        pg_insert(revocations)
        .values(jti=claims["jti"], client_id=claims["client_id"], reason=reason, relevant_until=expires)
        .on_conflict_do_nothing(index_elements=[revocations.c.jti])
        .returning(revocations.c.id)
    )
    if stored.first() is None:
        return  # already revoked: RFC 7009 §2.2 answers 200 again, without a second event
    await add_event(
        conn,
        TokenRevoked(
            revocation_id=uuid.uuid4(),
            provet_id=claims["provet_id"],
            jti=claims["jti"],
            client_id=claims["client_id"],
            reason=reason,
            revoked_at=datetime.now(UTC),
            relevant_until=expires,
        ),
        source=SOURCE,
    )


async def revoke_client_tokens(
    conn: AsyncConnection,
    *,
    client_id: str,
    provet_id: int,
    reason: str,
    lifetime_seconds: int,
    event_id: uuid.UUID,
) -> int:
    """Every token the client holds now stops working (watermark), and resource servers are told.

    The watermark is the next whole second (``iat`` has second precision); tokens issued from now on
    carry an ``iat`` of at least that (``tokens_issued_from``), so none of them is caught by it.
    Returns the watermark's Unix second; the caller stores it on the client.
    """
    now = datetime.fromtimestamp(math.ceil(datetime.now(UTC).timestamp()), UTC)
    until = datetime.fromtimestamp(now.timestamp() + lifetime_seconds, UTC)
    await conn.execute(
        insert(revocations).values(client_id=client_id, issued_before=now, reason=reason, relevant_until=until)
    )
    await add_event(
        conn,
        TokenRevoked(
            revocation_id=event_id,
            provet_id=provet_id,
            client_id=client_id,
            issued_before=now,
            reason=reason,
            revoked_at=now,
            relevant_until=until,
        ),
        source=SOURCE,
        event_id=event_id,
    )
    return int(now.timestamp())
