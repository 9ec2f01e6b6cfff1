"""Discovery: the JWKS, OpenID Provider metadata and RFC 8414 authorization-server metadata, per tenant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from vetgate_events.common import ProvetId

from vetgate_token.adapters.keys import ALGORITHM
from vetgate_token.domain.claims import issuer
from vetgate_token.entrypoints.components import OAuthComponents

CACHEABLE = {"Cache-Control": "public, max-age=300"}


def metadata(base_url: str, provet_id: int) -> dict[str, Any]:
    """RFC 8414 §2 and OpenID Connect Discovery §3 fields; only what is implemented is advertised."""
    iss = issuer(base_url, provet_id)
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/authorize/",
        "token_endpoint": f"{iss}/token/",
        "userinfo_endpoint": f"{iss}/userinfo/",
        "jwks_uri": f"{iss}/jwks/",
        "revocation_endpoint": f"{iss}/revoke_token/",
        "introspection_endpoint": f"{iss}/introspect/",
        "scopes_supported": ["restapi", "openid"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username"],
        # Public clients authenticate with "none" and must use PKCE (RFC 9700 §2.1.1).
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": [*auth_methods, "bearer"],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "code_challenge_methods_supported": ["S256"],
    }


def build_router(oauth: OAuthComponents) -> APIRouter:
    router = APIRouter()

    @router.get("/{provet_id}/oauth2/jwks/")
    async def jwks(provet_id: ProvetId) -> JSONResponse:
        # Short cache: a rotated-in key must reach verifiers well before it signs much.
        return JSONResponse(
            oauth.keys.jwks(), headers={"Cache-Control": "public, max-age=60"}, media_type="application/jwk-set+json"
        )

    @router.get("/{provet_id}/oauth2/.well-known/openid-configuration")
    async def openid_configuration(provet_id: ProvetId) -> JSONResponse:
        return JSONResponse(metadata(oauth.base_url, provet_id), headers=CACHEABLE)

    @router.get("/.well-known/oauth-authorization-server/{provet_id}/oauth2")
    async def authorization_server_metadata(provet_id: ProvetId) -> JSONResponse:
        # RFC 8414 §3: the well-known segment goes between host and the issuer's path.
        return JSONResponse(metadata(oauth.base_url, provet_id), headers=CACHEABLE)

    return router
