"""Who calls the token service's own JSON APIs: a bearer token this service issued (RFC 6750).

The service is its own resource server here, so it checks its tokens in memory (signing keys, revocations
and clients are cached) rather than through the resource-server library's JWKS fetch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from vetgate_authz.fastapi import AuthHTTPError

from vetgate_token.entrypoints.components import OAuthComponents
from vetgate_token.service_layer.access_tokens import decode_own_token

SUPPORT, ADMIN = "support", "admin"


@dataclass(frozen=True)
class Caller:
    client_id: str
    provet_id: int
    roles: frozenset[str]

    @property
    def is_support(self) -> bool:
        return SUPPORT in self.roles


def _refused(reason: str) -> AuthHTTPError:
    return AuthHTTPError(
        401, "invalid_token", reason, challenge=f'Bearer error="invalid_token", error_description="{reason}"'
    )


def _forbidden(reason: str) -> AuthHTTPError:
    challenge = f'Bearer error="insufficient_scope", error_description="{reason}"'
    return AuthHTTPError(403, "insufficient_scope", reason, challenge=challenge)


def caller_dependency(oauth: OAuthComponents, *, support_only: bool) -> Callable[[Request], Awaitable[Caller]]:
    """Support, or (unless ``support_only``) an admin of the tenant in the path's ``provet_id``."""

    async def caller(request: Request) -> Caller:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthHTTPError(401, "invalid_token", "missing credentials", challenge="Bearer")
        claims = decode_own_token(oauth.keys, token.strip())
        if claims is None or not isinstance(claims.get("provet_id"), int):
            raise _refused("invalid token")
        if await oauth.introspection.active_claims(oauth.keys, token.strip(), claims["provet_id"]) is None:
            raise _refused("token expired or revoked")
        client = await oauth.store.get(str(claims.get("client_id")))
        if client is None or not client.active:
            raise _refused("client disabled")
        who = Caller(client.client_id, client.provet_id, frozenset(claims.get("roles") or ()))
        if who.is_support:
            return who
        tenant = request.path_params.get("provet_id")
        if support_only or ADMIN not in who.roles:
            raise _forbidden(
                "role required: support" if support_only else "one of these roles required: admin, support"
            )
        if tenant is None or str(who.provet_id) != str(tenant):
            raise _refused("token is for another tenant")
        return who

    return caller
