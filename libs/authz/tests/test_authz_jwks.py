"""JWKS caching: rotation is picked up with one refetch, made-up kids cannot hammer the server."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from authz_testkit import Clock, JwksServer, claims, new_key, sign, verifier
from vetgate_authz import AuthUnavailable, InvalidToken, jwks_url


def test_jwks_url_of_an_issuer() -> None:
    assert jwks_url("https://auth.example/42/oauth2") == "https://auth.example/42/oauth2/jwks/"


async def test_unknown_kid_refetches_once_and_succeeds_after_rotation() -> None:
    old, new = new_key(), new_key()
    server = JwksServer([old])
    mono = Clock(0.0)
    async with server.client() as http:
        check = verifier(http, keys_clock=mono)
        await check.verify(sign(old, claims(1)), provet_id=1)
        await check.verify(sign(old, claims(1)), provet_id=1)
        assert len(server.hits) == 1, "keys are cached"

        server.keys = [old, new]  # rotation with overlap
        mono.advance(31)
        rotated = [sign(new, claims(1)) for _ in range(20)]
        results = await asyncio.gather(*(check.verify(token, provet_id=1) for token in rotated))
        assert len(results) == 20
        assert len(server.hits) == 2, "exactly one refetch, shared by concurrent requests"
        await check.verify(sign(old, claims(1)), provet_id=1)
        assert len(server.hits) == 2


async def test_flood_of_unknown_kids_refetches_at_most_once_per_interval() -> None:
    key = new_key()
    server = JwksServer([key])
    mono = Clock(0.0)
    async with server.client() as http:
        check = verifier(http, keys_clock=mono)
        await check.verify(sign(key, claims(1)), provet_id=1)
        bogus = [sign(new_key(), claims(1), kid=str(uuid.uuid4())) for _ in range(50)]

        outcomes = await asyncio.gather(*(check.verify(t, provet_id=1) for t in bogus), return_exceptions=True)
        assert all(isinstance(o, InvalidToken) and o.reason == "unknown key id" for o in outcomes)
        assert len(server.hits) == 1, "within the interval of the last fetch: no refetch at all"

        mono.advance(30)
        outcomes = await asyncio.gather(*(check.verify(t, provet_id=1) for t in bogus), return_exceptions=True)
        assert all(isinstance(o, InvalidToken) for o in outcomes)
        assert len(server.hits) == 2, "one refetch per interval, however many bogus kids"

        mono.advance(10)
        for token in bogus:
            with pytest.raises(InvalidToken):
                await check.verify(token, provet_id=1)
        assert len(server.hits) == 2


async def test_removed_key_stops_verifying_even_for_remembered_tokens() -> None:
    compromised, fresh = new_key(), new_key()
    server = JwksServer([compromised, fresh])
    mono = Clock(0.0)
    async with server.client() as http:
        check = verifier(http, keys_clock=mono)
        token = sign(compromised, claims(1))
        await check.verify(token, provet_id=1)
        server.keys = [fresh]
        mono.advance(3600)  # max_age: the key set is refetched on next use
        with pytest.raises(InvalidToken, match="unknown key id"):
            await check.verify(token, provet_id=1)
        await check.verify(sign(fresh, claims(1)), provet_id=1)


async def test_unreachable_jwks() -> None:
    key = new_key()
    server = JwksServer([key])
    mono = Clock(0.0)
    async with server.client() as http:
        check = verifier(http, keys_clock=mono)
        server.failing = True
        with pytest.raises(AuthUnavailable):
            await check.verify(sign(key, claims(1)), provet_id=1)

        server.failing = False
        mono.advance(30)
        await check.verify(sign(key, claims(1)), provet_id=1)
        server.failing = True
        mono.advance(3600)  # stale, and the refetch fails: the keys we hold still verify
        await check.verify(sign(key, claims(1)), provet_id=1)
        assert len(server.hits) == 3
