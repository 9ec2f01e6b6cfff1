"""Authorization codes and refresh tokens in Postgres: looked up by hash, consumed atomically."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vetgate_token.adapters.tables import authorization_codes, refresh_tokens
from vetgate_token.domain.grants import IssuedCode, RefreshToken


async def save_code(conn: AsyncConnection, code: IssuedCode) -> None:
    await conn.execute(insert(authorization_codes).values(**_fields(code, IssuedCode)))


async def find_code(conn: AsyncConnection, code_hash: str) -> IssuedCode | None:
    row = (await conn.execute(select(authorization_codes).where(authorization_codes.c.code_hash == code_hash))).first()
    return IssuedCode(**row._asdict()) if row is not None else None


async def consume_code(
    conn: AsyncConnection, code_hash: str, now: datetime, access_jti: str, access_exp: int, family_id: str | None
) -> bool:
    """Mark the code used; False when another request used it first (RFC 6749 §4.1.2: single use)."""
    used = await conn.execute(
        update(authorization_codes)
        .where(authorization_codes.c.code_hash == code_hash, authorization_codes.c.used_at.is_(None))
        .values(used_at=now, access_jti=access_jti, access_exp=access_exp, family_id=family_id)
        .returning(authorization_codes.c.code_hash)
    )
    return used.first() is not None


async def save_refresh(conn: AsyncConnection, token: RefreshToken, access_jti: str, access_exp: int) -> None:
    values = _fields(token, RefreshToken) | {"access_jti": access_jti, "access_exp": access_exp}
    await conn.execute(insert(refresh_tokens).values(**values))


async def find_refresh(conn: AsyncConnection, token_hash: str) -> RefreshToken | None:
    row = (await conn.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash))).first()
    if row is None:
        return None
    fields = {k: v for k, v in row._asdict().items() if k not in ("access_jti", "access_exp", "created_at")}
    return RefreshToken(**{**fields, "family_id": str(fields["family_id"]), "person_id": str(fields["person_id"])})


async def rotate_refresh(conn: AsyncConnection, token_hash: str, now: datetime) -> bool:
    """Retire the presented token; False when it was already rotated or revoked (a concurrent reuse)."""
    rotated = await conn.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.token_hash == token_hash,
            refresh_tokens.c.rotated_at.is_(None),
            refresh_tokens.c.revoked_at.is_(None),
        )
        .values(rotated_at=now)
        .returning(refresh_tokens.c.token_hash)
    )
    return rotated.first() is not None


async def revoke_family(conn: AsyncConnection, family_id: str, now: datetime) -> list[tuple[str, int]]:
    """Revoke every refresh token of the family; returns (jti, exp) of the access tokens it produced."""
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    rows = await conn.execute(
        select(refresh_tokens.c.access_jti, refresh_tokens.c.access_exp).where(refresh_tokens.c.family_id == family_id)
    )
    return [(jti, exp) for jti, exp in rows]


def _fields(obj: Any, cls: type) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)}
