"""Legacy API keys against the real token service and Kafka: accepted as the support client, uses reported,
and refused within a second of their revocation through the pushed KeyRevoked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from vetgate_authz import ClientCredentials, InvalidToken, ResourceServer
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.token_server import TokenServer


@pytest.fixture
async def resource_server(infra: Infrastructure, token_server: TokenServer) -> AsyncIterator[ResourceServer]:
    support = token_server.seed["support"]
    credentials = ClientCredentials(support["token_url"], support["client_id"], SecretStr(support["client_secret"]))
    rs = ResourceServer.for_platform(token_server.base_url, infra.kafka_bootstrap, introspection=credentials)
    tasks = [asyncio.ensure_future(job()) for job in rs.background()]
    try:
        for _ in range(300):
            if rs.feed.caught_up and _push_live(rs):
                break
            await asyncio.sleep(0.05)
        assert _push_live(rs), "the KeyRevoked feed caught up and hears from the broker"
        yield rs
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await rs.aclose()


def _push_live(rs: ResourceServer) -> bool:
    return rs.feed._api_keys is not None and rs.feed._api_keys.live


async def _listed(token_server: TokenServer, http: httpx.AsyncClient, provet_id: int, key_id: str) -> dict[str, Any]:
    answer = await http.get(f"/v1/tenants/{provet_id}/api-keys", headers=await token_server.support_headers())
    assert answer.status_code == 200, answer.text
    return next(k for k in answer.json()["keys"] if k["id"] == key_id)


async def test_a_key_works_at_the_resource_server_until_revoked(
    token_server: TokenServer, resource_server: ResourceServer
) -> None:
    tenant = token_server.tenants[0]
    async with httpx.AsyncClient(base_url=token_server.base_url, timeout=10) as http:
        created = await http.post(
            f"/v1/tenants/{tenant}/api-keys", json={"name": "Lab sync"}, headers=await token_server.support_headers()
        )
        assert created.status_code == 201, created.text
        key, key_id = created.json()["key"], created.json()["id"]

        authorizer = resource_server.authorizer
        for _ in range(5):
            caller = await authorizer.authenticate(f"Token {key}", provet_id=tenant)
            assert (caller.token_type, caller.provet_id, caller.jti) == ("api_key", tenant, key_id)
        with pytest.raises(InvalidToken):
            await authorizer.authenticate(f"Token {key}", provet_id=token_server.tenants[1])

        # One use was the introspection (counted by the token service), four came from the cache.
        assert resource_server.usage is not None and await resource_server.usage.report()
        for _ in range(100):
            if (await _listed(token_server, http, tenant, key_id))["use_count"] == 5:
                break
            await asyncio.sleep(0.1)
        listed = await _listed(token_server, http, tenant, key_id)
        assert listed["use_count"] == 5 and listed["last_used_at"] is not None

        revoked = await http.post(
            "/v1/api-keys/revocations", json={"dry_run": False}, headers=await token_server.support_headers()
        )
        assert revoked.status_code == 202, revoked.text
        assert key_id in {k["id"] for k in revoked.json()["keys"]}

        # From the moment the token service refuses the key, the resource server (whose cached answer is
        # good for 30 s) must refuse it within a second: the KeyRevoked push, not the cache's expiry.
        refused_at_token_service = refused_here = None
        deadline = time.monotonic() + 30
        while refused_here is None and time.monotonic() < deadline:
            if refused_at_token_service is None and not await _active_at_token_service(token_server, http, key, tenant):
                refused_at_token_service = time.monotonic()
            try:
                await authorizer.authenticate(f"Token {key}", provet_id=tenant)
            except InvalidToken as refusal:
                assert refusal.reason == "API key revoked", "refused because of the push"
                refused_here = time.monotonic()
            await asyncio.sleep(0.02)
    assert refused_here is not None, "never refused"
    assert refused_at_token_service is not None and refused_here - refused_at_token_service < 1.0


async def _active_at_token_service(token_server: TokenServer, http: httpx.AsyncClient, key: str, tenant: int) -> bool:
    answer = await http.post(
        f"/{tenant}/oauth2/introspect/", data={"token": key}, headers=await token_server.support_headers()
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])
