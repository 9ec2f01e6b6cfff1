"""Revocations from token.revocations.v1: by jti, by client/subject watermark, forgotten when irrelevant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from authz_testkit import Clock, JwksServer, claims, new_key, sign, verifier
from vetgate_authz import Authorizer, InvalidToken, RevocationList
from vetgate_events.token import TokenRevoked


def revoked(now: float, **fields: Any) -> TokenRevoked:
    at = datetime.fromtimestamp(now, UTC)
    defaults: dict[str, Any] = {
        "revocation_id": uuid.uuid4(),
        "provet_id": 1,
        "reason": "test",
        "revoked_at": at,
        "relevant_until": at + timedelta(hours=10),
    }
    return TokenRevoked(**(defaults | fields))


async def test_revoked_by_jti() -> None:
    key = new_key()
    wall = Clock()
    revocations = RevocationList(clock=wall)
    async with JwksServer([key]).client() as http:
        authorizer = Authorizer(verifier(http, clock=wall), revocations)
        victim, bystander = claims(1, now=wall.now), claims(1, now=wall.now)
        await authorizer.authenticate(f"Bearer {sign(key, victim)}", provet_id=1)  # remembered as verified

        revocations.apply(revoked(wall.now, jti=victim["jti"]))
        with pytest.raises(InvalidToken, match="token revoked"):
            await authorizer.authenticate(f"Bearer {sign(key, victim)}", provet_id=1)
        await authorizer.authenticate(f"Bearer {sign(key, bystander)}", provet_id=1)


async def test_client_watermark_refuses_tokens_issued_before_it_only() -> None:
    key = new_key()
    wall = Clock()
    revocations = RevocationList(clock=wall)
    async with JwksServer([key]).client() as http:
        authorizer = Authorizer(verifier(http, clock=wall), revocations)
        before = sign(key, claims(1, now=wall.now - 60, client_id="client-x"))
        other_client = sign(key, claims(1, now=wall.now - 60, client_id="client-y"))
        other_tenant = sign(key, claims(2, now=wall.now - 60, client_id="client-x"))

        revocations.apply(revoked(wall.now, client_id="client-x", issued_before=datetime.fromtimestamp(wall.now, UTC)))
        wall.advance(5)
        after = sign(key, claims(1, now=wall.now, client_id="client-x"))

        with pytest.raises(InvalidToken, match="token revoked"):
            await authorizer.authenticate(f"Bearer {before}", provet_id=1)
        assert (await authorizer.authenticate(f"Bearer {after}", provet_id=1)).client_id == "client-x"
        await authorizer.authenticate(f"Bearer {other_client}", provet_id=1)
        await authorizer.authenticate(f"Bearer {other_tenant}", provet_id=2)


async def test_subject_and_pair_watermarks() -> None:
    wall = Clock()
    revocations = RevocationList(clock=wall)
    cut = datetime.fromtimestamp(wall.now, UTC)
    revocations.apply(revoked(wall.now, subject="person-1", issued_before=cut))
    revocations.apply(revoked(wall.now, client_id="app-2", subject="person-2", issued_before=cut))
    key = new_key()
    async with JwksServer([key]).client() as http:
        check = verifier(http, clock=wall)

        async def is_revoked(**overrides: Any) -> bool:
            token = await check.verify(sign(key, claims(1, now=wall.now - 10, **overrides)), provet_id=1)
            return revocations.is_revoked(token)

        assert await is_revoked(sub="person-1", client_id="any-app")
        assert await is_revoked(sub="person-2", client_id="app-2")
        assert not await is_revoked(sub="person-2", client_id="app-3"), "both given: only that pair"
        assert not await is_revoked(sub="person-3", client_id="app-2")


async def test_entries_are_forgotten_after_relevant_until() -> None:
    wall = Clock()
    revocations = RevocationList(clock=wall, prune_interval=60)
    until = datetime.fromtimestamp(wall.now + 3600, UTC)
    cut = datetime.fromtimestamp(wall.now, UTC)
    revocations.apply(revoked(wall.now, jti="jti-1", relevant_until=until))
    revocations.apply(revoked(wall.now, client_id="client-1", issued_before=cut, relevant_until=until))
    key = new_key()
    async with JwksServer([key]).client() as http:
        token = await verifier(http, clock=wall).verify(
            sign(key, claims(1, now=wall.now - 10, jti="jti-1")), provet_id=1
        )
    assert revocations.is_revoked(token) and len(revocations) == 2

    wall.advance(3601)
    assert not revocations.is_revoked(token)
    revocations.apply(revoked(wall.now, jti="jti-2", relevant_until=datetime.fromtimestamp(wall.now - 1, UTC)))
    assert len(revocations) == 0, "pruned as events arrive; an already irrelevant event is not even stored"
