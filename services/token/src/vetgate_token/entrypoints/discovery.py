"""Discovery: the JWKS, OpenID Provider metadata and RFC 8414 authorization-server metadata, per tenant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vetgate_token.adapters.keys import ALGORITHM
from vetgate_token.domain.claims import issuer
from vetgate_token.entrypoints.components import OAuthComponents

CACHEABLE = {"Cache-Control": "public, max-age=300"}


def metadata(base_url: str, provet_id: int) -> dict[str, Any]:
    """RFC 8414 §2 fields. Only what is implemented is advertised: the authorization_code grant (and
    with it authorization_endpoint, userinfo and ID tokens) is announced once it is served."""
    iss = issuer(base_url, provet_id)
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": iss,
        "token_endpoint": f"{iss}/token/",
        "jwks_uri": f"{iss}/jwks/",
        "revocation_endpoint": f"{iss}/revoke_token/",
        "introspection_endpoint": f"{iss}/introspect/",
        "scopes_supported": ["restapi"],
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": [*auth_methods, "bearer"],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "code_challenge_methods_supported": ["S256"],
    }


def build_router(oauth: OAuthComponents) -> APIRouter:
    router = APIRouter()

    @router.get("/{provet_id}/oauth2/jwks/")
    async def jwks(provet_id: int) -> JSONResponse:
        # Short cache: a rotated-in key must reach verifiers well before it signs much.
        return JSONResponse(
            oauth.keys.jwks(), headers={"Cache-Control": "public, max-age=60"}, media_type="application/jwk-set+json"
        )

    @router.get("/{provet_id}/oauth2/.well-known/openid-configuration")
    async def openid_configuration(provet_id: int) -> JSONResponse:
        return JSONResponse(metadata(oauth.base_url, provet_id), headers=CACHEABLE)

    @router.get("/.well-known/oauth-authorization-server/{provet_id}/oauth2")
    async def authorization_server_metadata(provet_id: int) -> JSONResponse:
        # RFC 8414 §3: the well-known segment goes between host and the issuer's path.
        return JSONResponse(metadata(oauth.base_url, provet_id), headers=CACHEABLE)

    return router
