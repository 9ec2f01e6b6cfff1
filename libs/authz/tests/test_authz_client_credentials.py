"""Introspection as the support client: a client_credentials token, reused, renewed early and on a 401."""

from __future__ import annotations

import asyncio
import logging

import pytest
from authz_key_server import SUPPORT_SECRET, SUPPORT_TENANT, FakeTokenService, key_answer, key_checker
from authz_testkit import Clock
from vetgate_authz import AuthUnavailable, InvalidToken

KEY_1, KEY_2 = "vk_live_tenant_one_0123456789", "vk_live_tenant_two_0123456789"


async def test_keys_of_every_tenant_are_introspected_with_one_support_token() -> None:
    service = FakeTokenService({KEY_1: key_answer(1), KEY_2: key_answer(2)})
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        one = await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=1)
        two = await checker.authorizer.authenticate(f"Token {KEY_2}", provet_id=2)
        assert (one.token_type, one.provet_id, one.jti) == ("api_key", 1, service.keys[KEY_1]["jti"])
        assert (two.provet_id, two.subject) == (2, f"api-key:{service.keys[KEY_2]['jti']}")
        with pytest.raises(InvalidToken, match="invalid API key"):
            await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=2)  # another tenant's key
    assert service.token_requests == [SUPPORT_TENANT], "one token, at the support client's own tenant"
    (token,) = service.valid_tokens
    assert service.introspections == [(1, f"Bearer {token}"), (2, f"Bearer {token}"), (2, f"Bearer {token}")]


async def test_concurrent_first_requests_share_one_token_request() -> None:
    service = FakeTokenService({KEY_1: key_answer(1), KEY_2: key_answer(2)})
    async with service.http() as http:
        checker = key_checker(service, Clock(0.0), http)
        await asyncio.gather(
            *(checker.authorizer.authenticate(f"Token {key}", provet_id=t) for key, t in [(KEY_1, 1), (KEY_2, 2)] * 5)
        )
    assert len(service.token_requests) == 1


async def test_the_token_is_renewed_a_minute_before_it_expires() -> None:
    service = FakeTokenService(expires_in=600)
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        first = await checker.auth.token()
        clock.advance(539)
        assert await checker.auth.token() == first
        clock.advance(2)  # 541 s: within the last minute of its 600
        assert await checker.auth.token() != first
    assert len(service.token_requests) == 2


async def test_a_refused_token_is_replaced_once_and_the_request_repeated() -> None:
    service = FakeTokenService({KEY_1: key_answer(1)})
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=1)
        service.valid_tokens.clear()  # e.g. the support client's tokens were revoked
        clock.advance(1.5)  # past the cache
        token = await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=1)
        assert token.provet_id == 1
        assert len(service.token_requests) == 2
        first, refused, repeated = (auth for _, auth in service.introspections)
        assert first == refused != repeated, "the refused request was repeated with a new token"
        assert repeated.removeprefix("Bearer ") in service.valid_tokens


async def test_a_caller_refused_with_a_new_token_too_is_an_outage_not_a_loop() -> None:
    service = FakeTokenService({KEY_1: key_answer(1)}, refuse_introspection=True)
    async with service.http() as http:
        checker = key_checker(service, Clock(0.0), http)
        with pytest.raises(AuthUnavailable):
            await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=1)
    assert (len(service.token_requests), len(service.introspections)) == (2, 2)


async def test_a_refused_support_client_is_an_outage_asked_at_most_once_a_second(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = FakeTokenService({KEY_1: key_answer(1)}, refuse_client=True)
    clock = Clock(0.0)
    caplog.set_level(logging.DEBUG)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        for _ in range(3):
            with pytest.raises(AuthUnavailable):
                await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=1)
        assert len(service.token_requests) == 1 and service.introspections == []
        clock.advance(1.1)
        service.refuse_client = False
        await checker.authorizer.authenticate(f"Token {KEY_1}", provet_id=1)
        assert len(service.token_requests) == 2
    assert "client credentials refused" in caplog.text
    assert SUPPORT_SECRET not in caplog.text and KEY_1 not in caplog.text


async def test_a_token_due_for_renewal_still_serves_while_the_token_endpoint_refuses() -> None:
    service = FakeTokenService({KEY_1: key_answer(1)}, expires_in=600)
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        first = await checker.auth.token()
        service.refuse_client = True
        clock.advance(560)
        assert await checker.auth.token() == first, "renewal failed, but the token is good for 40 s more"
        clock.advance(41)
        with pytest.raises(AuthUnavailable):
            await checker.auth.token()


async def test_a_token_answer_without_expires_in_is_renewed_after_five_minutes() -> None:
    service = FakeTokenService(expires_in=None)
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        first = await checker.auth.token()
        clock.advance(239)
        assert await checker.auth.token() == first
        clock.advance(2)
        assert await checker.auth.token() != first
