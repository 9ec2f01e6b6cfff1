"""Refresh tokens: rotated on every use, a reused one revokes its family (RFC 6749 §6, RFC 9700 §4.14.2)."""

from __future__ import annotations

from code_flows import code_client, refresh, tokens_for
from flows import basic, unverified
from test_token_authorization_code import is_active
from test_token_client_credentials import registered_client
from vetgate_devstack.infra import Infrastructure

from conftest import TokenService


async def test_refresh_rotates_and_reuse_revokes_the_family(infra: Infrastructure, token_service: TokenService) -> None:
    caller = await registered_client(infra, token_service)
    client_id, first = await tokens_for(token_service, infra)
    http = token_service.http

    second = await refresh(http, client_id, first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"], "a new refresh token on every use"
    assert unverified(rotated["access_token"])[1]["sub"] == unverified(first["access_token"])[1]["sub"]
    assert await is_active(http, caller, rotated["access_token"])

    reused = await refresh(http, client_id, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # The whole family is gone: the newest refresh token and the access tokens it produced.
    newest = await refresh(http, client_id, rotated["refresh_token"])
    assert newest.status_code == 400 and newest.json()["error"] == "invalid_grant"
    assert not await is_active(http, caller, rotated["access_token"])
    assert not await is_active(http, caller, first["access_token"])


async def test_a_chain_of_refreshes_keeps_working(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, tokens = await tokens_for(token_service, infra)
    for _ in range(3):
        response = await refresh(token_service.http, client_id, tokens["refresh_token"])
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert tokens["scope"] == "restapi"


async def test_another_clients_refresh_token_is_refused_without_harm(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, tokens = await tokens_for(token_service, infra)
    other_id, _ = await code_client(infra)
    http = token_service.http
    stolen = await refresh(http, other_id, tokens["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert (await refresh(http, client_id, tokens["refresh_token"])).status_code == 200, "the owner is unaffected"
    garbage = await refresh(http, client_id, "not-a-refresh-token")
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_grant"


async def test_refresh_cannot_widen_the_scope_or_skip_client_auth(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, tokens = await tokens_for(token_service, infra)
    http = token_service.http
    wider = await http.post(
        "/54321/oauth2/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client_id,
            "scope": "restapi openid",
        },
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    cc_client, secret = await registered_client(infra, token_service)
    by_cc = await http.post(
        "/54321/oauth2/token/",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(cc_client, secret),
    )
    assert by_cc.status_code == 400 and by_cc.json()["error"] == "unauthorized_client"
