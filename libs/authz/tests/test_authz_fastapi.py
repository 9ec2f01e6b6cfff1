"""The FastAPI dependency: 401 with an RFC 6750 challenge, 403 insufficient_scope, the caller otherwise.

No ``from __future__ import annotations`` here: FastAPI must resolve the routes' local ``Annotated`` aliases.
"""

import time
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from authz_testkit import Clock, JwksServer, claims, new_key, sign, verifier
from fastapi import Depends, FastAPI
from joserfc.jwk import ECKey
from vetgate_authz import AccessToken, Authorizer, RevocationList
from vetgate_authz.fastapi import bearer_auth, install_auth_errors


@pytest.fixture
async def signing_key() -> ECKey:
    return new_key()


@pytest.fixture
async def api(signing_key: ECKey) -> AsyncIterator[httpx.AsyncClient]:
    async with JwksServer([signing_key]).client() as jwks_http:
        authorizer = Authorizer(verifier(jwks_http, keys_clock=Clock(0.0)), RevocationList())
        app = FastAPI()
        install_auth_errors(app)
        Patients = Annotated[AccessToken, Depends(bearer_auth(authorizer, permission="patients-clients"))]
        Support = Annotated[AccessToken, Depends(bearer_auth(authorizer, role="support"))]
        Staff = Annotated[AccessToken, Depends(bearer_auth(authorizer, any_role=("admin", "support")))]

        @app.get("/v1/tenants/{provet_id}/patients")
        async def patients(provet_id: int, token: Patients) -> dict[str, str | int]:
            return {"subject": token.subject, "provet_id": token.provet_id}

        @app.get("/v1/templates")
        async def templates(token: Support) -> dict[str, str]:
            return {"subject": token.subject}

        @app.get("/v1/tenants/{provet_id}/settings")
        async def settings(provet_id: int, token: Staff) -> dict[str, str]:
            return {"subject": token.subject}

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rs.test") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_with_the_permission(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    response = await api.get("/v1/tenants/5/patients", headers=bearer(sign(signing_key, claims(5))))
    assert response.status_code == 200
    assert response.json() == {"subject": "virtual-user-1", "provet_id": 5}


async def test_missing_credentials_get_a_bare_challenge(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/tenants/5/patients")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": "invalid_token", "error_description": "missing credentials"}


async def test_invalid_token_gets_401_with_error(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    now = int(time.time())
    expired = sign(signing_key, claims(5, iat=now - 7200, nbf=now - 7200, exp=now - 3600))
    response = await api.get("/v1/tenants/5/patients", headers=bearer(expired))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token", error_description="token expired"'
    assert response.json() == {"error": "invalid_token", "error_description": "token expired"}


async def test_token_of_another_tenant_gets_401(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    response = await api.get("/v1/tenants/6/patients", headers=bearer(sign(signing_key, claims(5))))
    assert response.status_code == 401
    assert response.json()["error_description"] == "token is for another tenant"


async def test_support_token_works_at_every_tenant(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    support = sign(signing_key, claims(5, roles=["support"]))
    assert (await api.get("/v1/tenants/6/patients", headers=bearer(support))).status_code == 200
    admin = sign(signing_key, claims(5, roles=["admin"]))
    assert (await api.get("/v1/tenants/6/patients", headers=bearer(admin))).status_code == 401


async def test_missing_permission_gets_403(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    token = sign(signing_key, claims(5, permissions=["consultations"]))
    response = await api.get("/v1/tenants/5/patients", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "permission required: patients-clients",
    }


async def test_role_is_required_where_asked(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    admin = sign(signing_key, claims(5, roles=["admin"]))
    assert (await api.get("/v1/templates", headers=bearer(admin))).status_code == 403
    support = sign(signing_key, claims(1, roles=["support"]))
    assert (await api.get("/v1/templates", headers=bearer(support))).status_code == 200


async def test_any_of_several_roles_where_asked(api: httpx.AsyncClient, signing_key: ECKey) -> None:
    for roles, status in ((["admin"], 200), (["support"], 200), ([], 403), (["reader"], 403)):
        token = sign(signing_key, claims(5, roles=roles))
        response = await api.get("/v1/tenants/5/settings", headers=bearer(token))
        assert response.status_code == status, roles
    response = await api.get("/v1/tenants/5/settings", headers=bearer(sign(signing_key, claims(5, roles=[]))))
    assert response.json()["error_description"] == "one of these roles required: admin, support"


async def test_unsupported_scheme_gets_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/tenants/5/patients", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.json()["error_description"] == "unsupported authorization scheme"
