"""client_credentials through the token endpoint, fed by provisioning's events on the real broker."""

from __future__ import annotations

import httpx
from flows import basic, provisioned, publish
from joserfc import jwt
from joserfc.jwk import KeySet
from vetgate_devstack.infra import Infrastructure
from vetgate_messaging import testing

from conftest import BASE_URL, TokenService


async def registered_client(
    infra: Infrastructure, svc: TokenService, provet_id: int = 54321, permissions: list[str] | None = None
) -> tuple[str, str]:
    event, secret = provisioned(provet_id, permissions)
    await publish(infra.kafka_bootstrap, event)
    issued = await testing.credentials_issued(infra.kafka_bootstrap, event.client_id, token_base=BASE_URL)
    assert issued.token_url == f"{BASE_URL}/{provet_id}/oauth2/token/"
    return event.client_id, secret


async def test_credentials_work_the_moment_they_are_issued(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, secret = await registered_client(infra, token_service)
    # CredentialsIssued is on the topic, so the registration has committed: the first try must work.
    response = await token_service.http.post(
        "/54321/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36_000
    assert body["scope"] == "restapi"
    assert "refresh_token" not in body, "client_credentials issues no refresh token"
    assert response.headers["cache-control"] == "no-store"

    jwks = (await token_service.http.get("/54321/oauth2/jwks/")).json()
    token = jwt.decode(body["access_token"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert token.header["typ"] == "at+jwt" and token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    claims = token.claims
    assert claims["iss"] == f"{BASE_URL}/54321/oauth2"
    assert claims["client_id"] == client_id and claims["provet_id"] == 54321
    assert claims["exp"] - claims["nbf"] == 36_000
    assert claims["permissions"] == ["patients-clients", "reminder"]
    assert {"sub", "aud", "jti", "nbf"} <= set(claims)


async def test_secret_in_the_body_and_multipart_forms_are_accepted(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, secret = await registered_client(infra, token_service)
    fields = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    urlencoded = await token_service.http.post("/54321/oauth2/token/", data=fields)
    multipart = await token_service.http.post("/54321/oauth2/token/", files={k: (None, v) for k, v in fields.items()})
    assert urlencoded.status_code == multipart.status_code == 200, (urlencoded.text, multipart.text)


async def test_refusals_are_rfc_shaped(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, secret = await registered_client(infra, token_service)
    http = token_service.http
    wrong = await http.post(
        "/54321/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, "not-the-secret")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")

    elsewhere = await http.post(
        "/11111/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert elsewhere.status_code == 401, "a client of tenant 54321 does not exist at tenant 11111"
    unknown = await http.post(
        "/54321/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic("no-such-client", secret)
    )
    assert wrong.json() == elsewhere.json() == unknown.json(), "a wrong secret and an unknown client look alike"
    assert unknown.headers["www-authenticate"] == 'Basic realm="vetgate"'

    grant = await http.post("/54321/oauth2/token/", data={"grant_type": "password"}, headers=basic(client_id, secret))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"

    as_json = await http.post(
        "/54321/oauth2/token/", json={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"

    missing = await http.post("/54321/oauth2/token/", data={"scope": "restapi"}, headers=basic(client_id, secret))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request", "grant_type is required"

    # RFC 6749 §5.2: "utilizes more than one mechanism for authenticating the client" is invalid_request,
    # and so is naming two clients; a client_id that repeats the Basic one is fine.
    both = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    two_clients = {"grant_type": "client_credentials", "client_id": "someone-else"}
    same = {"grant_type": "client_credentials", "client_id": client_id}
    refused = []
    for path in ("/54321/oauth2/token/", "/54321/oauth2/introspect/", "/54321/oauth2/revoke_token/"):
        for form in (both, two_clients):
            refused.append(await http.post(path, data={**form, "token": "t"}, headers=basic(client_id, secret)))
    assert [(r.status_code, r.json()["error"]) for r in refused] == [(400, "invalid_request")] * 6
    repeated_id = await http.post("/54321/oauth2/token/", data=same, headers=basic(client_id, secret))
    assert repeated_id.status_code == 200

    for response in (wrong, elsewhere, grant, as_json, missing, *refused):
        assert secret not in response.text


async def test_repeated_failures_are_throttled_with_retry_after(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, secret = await registered_client(infra, token_service)
    statuses = []
    for _ in range(11):
        r = await token_service.http.post(
            "/54321/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, "guess")
        )
        statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert int(r.headers["retry-after"]) > 0
    blocked = await token_service.http.post(
        "/54321/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert blocked.status_code == 429, "even the right secret waits out the window"


async def test_discovery_documents_point_at_the_tenant(token_service: TokenService) -> None:
    oidc = (await token_service.http.get("/54321/oauth2/.well-known/openid-configuration")).json()
    rfc8414 = (await token_service.http.get("/.well-known/oauth-authorization-server/54321/oauth2")).json()
    assert oidc == rfc8414
    assert oidc["issuer"] == f"{BASE_URL}/54321/oauth2"
    assert oidc["token_endpoint"] == f"{BASE_URL}/54321/oauth2/token/"
    assert oidc["jwks_uri"] == f"{BASE_URL}/54321/oauth2/jwks/"
    assert "client_credentials" in oidc["grant_types_supported"]
    assert isinstance(httpx.URL(oidc["introspection_endpoint"]), httpx.URL)


async def test_malformed_forms_get_oauth_errors_not_500s(infra: Infrastructure, token_service: TokenService) -> None:
    """The RFC endpoints parse their own bodies (ADR 0018): every malformed one is a 400 invalid_request."""
    client_id, secret = await registered_client(infra, token_service)
    http, form = token_service.http, {"Content-Type": "application/x-www-form-urlencoded", **basic(client_id, secret)}
    bodies = {
        "repeated": b"grant_type=client_credentials&grant_type=client_credentials",  # RFC 6749 §3.2
        "not-utf8": b"grant_type=client_credentials&scope=\xff\xfe",
        "too-many-fields": b"&".join(b"f%d=x" % i for i in range(101)) + b"&grant_type=client_credentials",
    }
    for case, body in bodies.items():
        for path in ("/54321/oauth2/token/", "/54321/oauth2/introspect/", "/54321/oauth2/revoke_token/"):
            response = await http.post(path, content=body, headers=form)
            assert response.status_code == 400, (case, path, response.text)
            assert response.json()["error"] == "invalid_request", (case, path)
            assert response.headers["cache-control"] == "no-store"
    for oversized in (b"x" * ((1 << 20) + 1), b"grant_type=client_credentials&pad=" + b"x" * (1 << 20)):
        too_large = await http.post("/54321/oauth2/token/", content=oversized, headers=form)
        assert too_large.status_code == 413 and too_large.json()["error"] == "invalid_request"
    blank = await http.post("/54321/oauth2/token/", content=b"grant_type=client_credentials&scope=", headers=form)
    assert blank.status_code == 200 and blank.json()["scope"] == "restapi", "a blank scope is the default scope"
    not_a_tenant = await http.post("/abc/oauth2/token/", data={"grant_type": "client_credentials"})
    assert not_a_tenant.status_code == 404, "a non-numeric tenant is no route at all"
