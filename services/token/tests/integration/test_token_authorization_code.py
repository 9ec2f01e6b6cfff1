"""authorization_code with PKCE through the real pages and token endpoint (RFC 6749 §4.1, RFC 7636)."""

from __future__ import annotations

import httpx
from code_flows import (
    PERMISSIONS,
    REDIRECT,
    add_person,
    code_client,
    decide,
    exchange,
    params,
    pkce,
    redirected,
    refresh,
    tokens_for,
)
from flows import basic, unverified
from joserfc import jwt
from joserfc.jwk import KeySet
from test_token_client_credentials import registered_client
from vetgate_devstack.infra import Infrastructure

from conftest import BASE_URL, TokenService


async def is_active(http: httpx.AsyncClient, caller: tuple[str, str], token: str) -> bool:
    response = await http.post("/54321/oauth2/introspect/", data={"token": token}, headers=basic(*caller))
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


async def test_a_person_authorizes_a_public_client_with_pkce(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, _ = await code_client(infra)
    person_id = await add_person(token_service)
    verifier, challenge = pkce()
    back = redirected(await decide(token_service.http, 54321, params(client_id, challenge)))
    assert back["state"] == "st-123", "state round-trips (RFC 6749 §4.1.2)"

    response = await exchange(token_service.http, 54321, client_id, back["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "restapi"
    assert body["refresh_token"] and "id_token" not in body
    header, claims = unverified(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == person_id and claims["client_id"] == client_id
    assert claims["permissions"] == list(PERMISSIONS) and claims["roles"] == []


async def test_pkce_plain_and_missing_pkce_are_refused(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, _ = await code_client(infra)
    http = token_service.http
    _, challenge = pkce()
    plain = params(client_id, None, code_challenge=challenge, code_challenge_method="plain")
    refused = redirected(await http.get("/54321/oauth2/authorize/", params=plain))
    assert refused["error"] == "invalid_request" and refused["state"] == "st-123"

    no_method = params(client_id, None, code_challenge=challenge)  # RFC 7636 §4.3: absent means plain
    assert redirected(await http.get("/54321/oauth2/authorize/", params=no_method))["error"] == "invalid_request"

    without = redirected(await http.get("/54321/oauth2/authorize/", params=params(client_id, None)))
    assert without["error"] == "invalid_request", "a public client must use PKCE"


async def test_the_verifier_must_be_sent_and_must_match(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    verifier, challenge = pkce()
    code = redirected(await decide(token_service.http, 54321, params(client_id, challenge)))["code"]
    http = token_service.http

    missing = await exchange(http, 54321, client_id, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    wrong = await exchange(http, 54321, client_id, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = await exchange(http, 54321, client_id, code, verifier)
    assert right.status_code == 200, right.text


async def test_confidential_clients_may_use_pkce_and_then_need_the_verifier(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, secret = await code_client(infra, client_type="confidential")
    assert secret is not None
    await add_person(token_service)
    http = token_service.http

    plain_code = redirected(await decide(http, 54321, params(client_id, None)))["code"]
    unauthenticated = await exchange(http, 54321, client_id, plain_code, None)
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"
    assert (await exchange(http, 54321, client_id, plain_code, None, secret)).status_code == 200

    verifier, challenge = pkce()
    code = redirected(await decide(http, 54321, params(client_id, challenge)))["code"]
    missing = await exchange(http, 54321, client_id, code, None, secret)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert (await exchange(http, 54321, client_id, code, verifier, secret)).status_code == 200


async def test_unverified_redirect_uris_and_clients_get_an_error_page(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, _ = await code_client(infra)
    _, challenge = pkce()
    http = token_service.http
    for query in (
        params(client_id, challenge, redirect_uri="https://evil.example/callback"),
        params(client_id, challenge, redirect_uri=REDIRECT + "/"),  # RFC 9700 §2.1: exact match only
        params("no-such-client", challenge),
        params(client_id, challenge, response_type="token"),
        # Authlib quotes the response_type into its description and refused these characters there (a 500).
        params(client_id, challenge, response_type="tok\u00e9n"),
        params(client_id, challenge, response_type="\x00"),
    ):
        response = await http.get("/54321/oauth2/authorize/", params=query)
        if query["response_type"] == "token":  # a verified redirect_uri: the error goes back to the client
            assert redirected(response)["error"] == "unsupported_response_type"
            continue
        assert response.status_code == 400, response.text
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
        assert "evil.example" not in response.text

    elsewhere = await http.get("/11111/oauth2/authorize/", params=params(client_id, challenge))
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers, "another tenant's client is unknown"


async def test_deny_goes_back_as_access_denied(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    _, challenge = pkce()
    back = redirected(await decide(token_service.http, 54321, params(client_id, challenge), action="deny"))
    assert back["error"] == "access_denied" and back["state"] == "st-123"
    assert "code" not in back


async def test_a_reused_code_is_refused_and_revokes_what_it_issued(
    infra: Infrastructure, token_service: TokenService
) -> None:
    caller = await registered_client(infra, token_service)
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    verifier, challenge = pkce()
    http = token_service.http
    code = redirected(await decide(http, 54321, params(client_id, challenge)))["code"]
    first = (await exchange(http, 54321, client_id, code, verifier)).json()
    assert await is_active(http, caller, first["access_token"])

    again = await exchange(http, 54321, client_id, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: the tokens issued from the code are revoked.
    assert not await is_active(http, caller, first["access_token"])
    assert (await refresh(http, client_id, first["refresh_token"])).json()["error"] == "invalid_grant"


async def test_an_expired_code_is_refused(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    verifier, challenge = pkce()
    code = redirected(await decide(token_service.http, 54321, params(client_id, challenge)))["code"]
    async with token_service.host.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE authorization_codes SET expires_at = now() - interval '1 second'")
    response = await exchange(token_service.http, 54321, client_id, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_openid_issues_an_id_token_and_userinfo_answers(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, body = await tokens_for(token_service, infra, scope="openid restapi", nonce="n-0S6_WzA2Mj")
    http = token_service.http
    assert set(body["scope"].split()) == {"openid", "restapi"}
    jwks = KeySet.import_key_set((await http.get("/54321/oauth2/jwks/")).json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["ES256"])
    claims = id_token.claims
    assert id_token.header["typ"] == "JWT"
    assert claims["iss"] == f"{BASE_URL}/54321/oauth2" and claims["aud"] == client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["auth_time"] <= claims["iat"] < claims["exp"]
    person_id = claims["sub"]

    info = await http.get("/54321/oauth2/userinfo/", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200, info.text
    assert info.json() == {"sub": person_id, "preferred_username": "vet", "provet_id": 54321}

    for bad in (body["id_token"], "garbage"):  # an ID token is no access token
        refused = await http.get("/54321/oauth2/userinfo/", headers={"Authorization": f"Bearer {bad}"})
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
    elsewhere = await http.get("/11111/oauth2/userinfo/", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert elsewhere.status_code == 401, "a token of tenant 54321 is not valid at 11111"


async def test_userinfo_needs_the_openid_scope(infra: Infrastructure, token_service: TokenService) -> None:
    _, body = await tokens_for(token_service, infra)
    response = await token_service.http.get(
        "/54321/oauth2/userinfo/", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.status_code == 403 and 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert (await token_service.http.get("/54321/oauth2/userinfo/")).status_code == 401


async def test_discovery_advertises_the_code_flow(token_service: TokenService) -> None:
    oidc = (await token_service.http.get("/54321/oauth2/.well-known/openid-configuration")).json()
    assert oidc["authorization_endpoint"] == f"{BASE_URL}/54321/oauth2/authorize/"
    assert oidc["userinfo_endpoint"] == f"{BASE_URL}/54321/oauth2/userinfo/"
    assert oidc["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token", "client_credentials"} == set(oidc["grant_types_supported"])
    assert oidc["scopes_supported"] == ["restapi", "openid"]
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert oidc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert oidc["subject_types_supported"] == ["public"]
    assert "none" in oidc["token_endpoint_auth_methods_supported"]
