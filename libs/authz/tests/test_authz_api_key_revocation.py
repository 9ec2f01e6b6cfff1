"""KeyRevoked pushed to the cache: a revoked key is refused at once; long caching only while the push is live."""

from __future__ import annotations

import uuid

import pytest
from authz_key_server import SUPPORT, FakeTokenService, key_answer, key_checker, key_revoked
from authz_testkit import BASE, Clock
from vetgate_authz import ClientCredentialsAuth, IntrospectionClient, InvalidToken, RevokedApiKeys

KEY, OTHER = "vk_live_revoked_0123456789abc", "vk_live_bystander_0123456789"


async def test_a_cached_key_is_refused_as_soon_as_its_revocation_arrives() -> None:
    service = FakeTokenService({KEY: key_answer(1), OTHER: key_answer(1)})
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        checker.revoked.mark_live()
        for key in (KEY, OTHER):
            await checker.authorizer.authenticate(f"Token {key}", provet_id=1)
        calls = len(service.introspections)

        checker.revoked.apply(key_revoked(service.keys[KEY]["jti"]))
        with pytest.raises(InvalidToken, match="API key revoked"):
            await checker.authorizer.authenticate(f"Token {KEY}", provet_id=1)
        await checker.authorizer.authenticate(f"Token {OTHER}", provet_id=1)
        assert len(service.introspections) == calls, "both answered from the cache, without asking"

        # Later the token service says so itself; the push remains in force meanwhile.
        del service.keys[KEY]
        clock.advance(1.5)
        with pytest.raises(InvalidToken):
            await checker.authorizer.authenticate(f"Token {KEY}", provet_id=1)


async def test_an_answer_in_flight_while_the_key_is_revoked_is_refused() -> None:
    """The introspection was answered 'active' just before the revocation committed, and arrives after."""
    service = FakeTokenService({KEY: key_answer(1)})
    async with service.http() as http:
        checker = key_checker(service, Clock(0.0), http)
        checker.revoked.apply(key_revoked(service.keys[KEY]["jti"].upper()))  # ids compare as UUIDs
        with pytest.raises(InvalidToken, match="API key revoked"):
            await checker.authorizer.authenticate(f"Token {KEY}", provet_id=1)
        with pytest.raises(InvalidToken):
            await checker.authorizer.authenticate(f"Token {KEY}", provet_id=1)
    assert len(service.introspections) == 1, "the refusal is cached like any inactive answer"


async def test_revoked_ids_are_kept_longer_than_any_cached_answer_then_forgotten() -> None:
    service = FakeTokenService({KEY: key_answer(1)})
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)
        key_id = service.keys[KEY]["jti"]
        checker.revoked.apply(key_revoked(key_id))
        clock.advance(299)
        assert checker.revoked.is_revoked(key_id)
        clock.advance(2)
        checker.revoked.revoke(str(uuid.uuid4()))  # arrivals prune what is past its retention
        assert not checker.revoked.is_revoked(key_id) and len(checker.revoked) == 1


async def test_active_answers_are_trusted_30_s_with_the_push_live_and_1_s_without() -> None:
    service = FakeTokenService({KEY: key_answer(1), "vk_live_no_key_id_0123456789": key_answer(1, jti=None)})
    clock = Clock(0.0)
    async with service.http() as http:
        checker = key_checker(service, clock, http)

        async def ask(key: str = KEY) -> int:
            await checker.authorizer.authenticate(f"Token {key}", provet_id=1)
            return len(service.introspections)

        assert await ask() == 1
        for _ in range(29):
            clock.advance(1.0)
            checker.revoked.mark_live()  # the feed, once a second
            assert await ask() == 1
        clock.advance(1.01)
        checker.revoked.mark_live()
        assert await ask() == 2, "30 s after the answer"

        clock.advance(2.5)  # the feed fell silent: the push no longer vouches for the cache
        assert await ask() == 3
        clock.advance(0.5)
        assert await ask() == 3
        clock.advance(0.6)
        assert await ask() == 4, "1 s without the push"

        checker.revoked.mark_live()
        assert await ask("vk_live_no_key_id_0123456789") == 5
        clock.advance(1.01)
        checker.revoked.mark_live()
        assert await ask("vk_live_no_key_id_0123456789") == 6, "no key id: nothing to match a revocation to"


async def test_a_cache_trusting_answers_longer_keeps_revoked_ids_longer() -> None:
    service = FakeTokenService({KEY: key_answer(1)})
    clock = Clock(0.0)
    async with service.http() as http:
        revoked = RevokedApiKeys(clock=clock)
        auth = ClientCredentialsAuth(SUPPORT, http=http, clock=clock)
        client = IntrospectionClient(
            token_base=BASE, auth=auth, http=http, revoked=revoked, positive_ttl=3600, clock=clock
        )
        key_id = service.keys[KEY]["jti"]
        revoked.mark_live()
        await client.authenticate_key(KEY, provet_id=1)
        revoked.apply(key_revoked(key_id))
        clock.advance(3000)
        revoked.mark_live()
        with pytest.raises(InvalidToken, match="API key revoked"):
            await client.authenticate_key(KEY, provet_id=1)
        assert revoked.retention >= 3600
