"""Introspection (RFC 7662), revocation (RFC 7009) and the registry's reactions to provisioning events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flows import basic, publish, unverified, wait_for_record
from joserfc import jwt
from joserfc.jwk import KeySet
from test_token_client_credentials import registered_client
from vetgate_devstack.infra import Infrastructure
from vetgate_events.provisioning import ClientRevoked, VirtualUserChanged
from vetgate_events.token import TokenRevoked
from vetgate_events.topics import TOKEN_REVOCATIONS
from vetgate_token.adapters.keys import KeyRing

from conftest import TokenService


async def token_for(svc: TokenService, client_id: str, secret: str, provet_id: int = 54321) -> str:
    r = await svc.http.post(
        f"/{provet_id}/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def introspect(svc: TokenService, token: str, caller: tuple[str, str], provet_id: int = 54321) -> dict:  # type: ignore[type-arg]
    r = await svc.http.post(f"/{provet_id}/oauth2/introspect/", data={"token": token}, headers=basic(*caller))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
async def client(infra: Infrastructure, token_service: TokenService) -> tuple[str, str]:
    return await registered_client(infra, token_service)


async def test_introspection_needs_an_authenticated_caller_of_the_tenant(
    infra: Infrastructure, token_service: TokenService, client: tuple[str, str]
) -> None:
    token = await token_for(token_service, *client)
    anonymous = await token_service.http.post("/54321/oauth2/introspect/", data={"token": token})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"

    answer = await introspect(token_service, token, client)
    assert answer["active"] is True
    assert answer["client_id"] == client[0] and answer["token_type"] == "Bearer"
    assert answer["scope"] == "restapi" and "exp" in answer and "permissions" in answer

    other_tenant_client = await registered_client(infra, token_service, provet_id=11111)
    assert (await introspect(token_service, token, other_tenant_client, provet_id=11111)) == {"active": False}
    assert (await introspect(token_service, "not-a-token", client)) == {"active": False}


async def test_a_revoked_token_is_inactive_and_resource_servers_are_told(
    infra: Infrastructure, token_service: TokenService, client: tuple[str, str]
) -> None:
    token = await token_for(token_service, *client)
    other = await token_for(token_service, *client)
    revoke = await token_service.http.post("/54321/oauth2/revoke_token/", data={"token": token}, headers=basic(*client))
    assert revoke.status_code == 200
    again = await token_service.http.post("/54321/oauth2/revoke_token/", data={"token": token}, headers=basic(*client))
    assert again.status_code == 200, "RFC 7009 §2.2: revoking twice is fine"
    assert (await introspect(token_service, token, client)) == {"active": False}
    assert (await introspect(token_service, other, client))["active"] is True, "only that token"

    jti = unverified(token)[1]["jti"]
    await wait_for_record(
        infra.kafka_bootstrap,
        TOKEN_REVOCATIONS,
        lambda h, body: h.get("ce_type") == TokenRevoked.event_type().encode() and json.loads(body).get("jti") == jti,
    )


async def test_only_the_owner_may_revoke_and_unknown_tokens_are_no_error(
    infra: Infrastructure, token_service: TokenService, client: tuple[str, str]
) -> None:
    token = await token_for(token_service, *client)
    stranger = await registered_client(infra, token_service)
    refused = await token_service.http.post(
        "/54321/oauth2/revoke_token/", data={"token": token}, headers=basic(*stranger)
    )
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    assert (await introspect(token_service, token, client))["active"] is True
    unknown = await token_service.http.post(
        "/54321/oauth2/revoke_token/", data={"token": "garbage"}, headers=basic(*client)
    )
    assert unknown.status_code == 200
    anonymous = await token_service.http.post("/54321/oauth2/revoke_token/", data={"token": token})
    assert anonymous.status_code == 401


async def test_client_revoked_disables_the_client_and_every_token_it_holds(
    infra: Infrastructure, token_service: TokenService, client: tuple[str, str]
) -> None:
    token = await token_for(token_service, *client)
    await publish(
        infra.kafka_bootstrap,
        ClientRevoked(
            client_id=client[0],
            activation_id=uuid.uuid4(),
            provet_id=54321,
            reason="application removed",
            revoked_at=datetime.now(UTC),
        ),
    )
    await wait_for_record(
        infra.kafka_bootstrap,
        TOKEN_REVOCATIONS,
        lambda h, body: (
            json.loads(body).get("client_id") == client[0] and h.get("ce_type") == TokenRevoked.event_type().encode()
        ),
    )
    observer = await registered_client(infra, token_service)
    assert (await introspect(token_service, token, observer)) == {"active": False}
    refused = await token_service.http.post(
        "/54321/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(*client)
    )
    assert refused.status_code == 401


async def test_a_withdrawn_permission_revokes_outstanding_tokens_and_shapes_new_ones(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client = await registered_client(infra, token_service, permissions=["patients-clients", "reminder"])
    old = await token_for(token_service, *client)
    await publish(
        infra.kafka_bootstrap,
        VirtualUserChanged(
            virtual_user_id=uuid.uuid4(),
            client_id=client[0],
            provet_id=54321,
            username="Integration Reminders",
            permissions=["reminder"],
            active=True,
            changed_at=datetime.now(UTC),
        ),
    )
    await wait_for_record(
        infra.kafka_bootstrap, TOKEN_REVOCATIONS, lambda h, body: json.loads(body).get("client_id") == client[0]
    )
    new = await token_for(token_service, *client)
    assert (await introspect(token_service, old, client)) == {"active": False}
    fresh = await introspect(token_service, new, client)
    assert fresh["active"] is True and fresh["permissions"] == ["reminder"]


async def test_rotated_keys_stay_published_and_new_tokens_use_the_new_key(
    infra: Infrastructure, token_service: TokenService, client: tuple[str, str]
) -> None:
    old = await token_for(token_service, *client)
    keys: KeyRing = token_service.host.components["oauth"].keys
    async with token_service.host.engine.begin() as conn:
        assert await keys.ensure_current(conn, timedelta(0))
        await keys.load(conn)
    new = await token_for(token_service, *client)
    jwks = (await token_service.http.get("/54321/oauth2/jwks/")).json()
    assert unverified(old)[0]["kid"] != unverified(new)[0]["kid"]
    for token in (old, new):
        jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
        assert (await introspect(token_service, token, client))["active"] is True
