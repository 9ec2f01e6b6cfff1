"""Reading our own access tokens back: for introspection (RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events.token import TokenRevoked
from vetgate_messaging.outbox import add_event

from vetgate_token.adapters.keys import ALGORITHM, KeyRing
from vetgate_token.adapters.tables import revocations as revocations_table
from vetgate_token.domain.claims import AUDIENCE, issuer
from vetgate_token.service_layer.revocation_cache import RevocationCache

SOURCE = "/vetgate/token"


VERIFIED_CACHE_SIZE = 10_000


def decode_own_token(keys: KeyRing, token: str) -> dict[str, Any] | None:
    """The claims of a well-formed access token signed by one of our published keys, else None.

    A token verified before is not verified again while the published keys are unchanged: resource servers
    introspect the same tokens over and over, and the ECDSA check was a third of introspection's cost.
    Expiry and revocation are the callers' checks, on every call."""
    remembered = keys.verified_claims.get(token)
    if remembered is not None:
        return dict(remembered)
    try:
        decoded = jwt.decode(token, keys.verification_keys(), algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return None
    if decoded.header.get("typ") != "at+jwt":
        return None
    if len(keys.verified_claims) >= VERIFIED_CACHE_SIZE:
        del keys.verified_claims[next(iter(keys.verified_claims))]  # oldest first
    keys.verified_claims[token] = claims = dict(decoded.claims)
    return dict(claims)  # a copy: callers must not change what the next introspection sees


@dataclass(frozen=True)
class Introspection:
    base_url: str
    engine: AsyncEngine
    revocations: RevocationCache

    async def active_claims(self, keys: KeyRing, token: str, provet_id: int) -> dict[str, Any] | None:
        """Claims of a token that is valid right now at this tenant, or None (RFC 7662 §2.2 'active')."""
        claims = decode_own_token(keys, token)
        now = int(datetime.now(UTC).timestamp())
        if claims is None or claims.get("iss") != issuer(self.base_url, provet_id):
            return None  # a token of another tenant is not active here
        if claims.get("aud") != AUDIENCE or not claims.get("nbf", 0) <= now < claims.get("exp", 0):
            return None
        if await self.revocations.is_revoked(self.engine, claims):
            return None
        return claims


async def revoke_token(
    conn: AsyncConnection, claims: dict[str, Any], reason: str, revocations: RevocationCache
) -> None:
    """Revoke one access token by jti and tell every resource server (TokenRevoked)."""
    revocations.record(jti=claims["jti"])
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    stored = await conn.execute(
        pg_insert(revocations_table)
        .values(jti=claims["jti"], client_id=claims["client_id"], reason=reason, relevant_until=expires)
        .on_conflict_do_nothing(index_elements=[revocations_table.c.jti])
        .returning(revocations_table.c.id)
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
    revocations: RevocationCache,
) -> int:
    """Every token the client holds now stops working (watermark), and resource servers are told.

    The watermark is the next whole second (``iat`` has second precision); tokens issued from now on
    carry an ``iat`` of at least that (``tokens_issued_from``), so none of them is caught by it.
    Returns the watermark's Unix second; the caller stores it on the client.
    """
    now = datetime.fromtimestamp(math.ceil(datetime.now(UTC).timestamp()), UTC)
    until = datetime.fromtimestamp(now.timestamp() + lifetime_seconds, UTC)
    revocations.record(client_id=client_id, issued_before=now)
    await conn.execute(
        insert(revocations_table).values(client_id=client_id, issued_before=now, reason=reason, relevant_until=until)
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
