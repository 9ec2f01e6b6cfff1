"""One entry point for resource servers: who is calling (401 otherwise), and may they do this (403 otherwise)."""

from __future__ import annotations

from vetgate_authz.errors import Forbidden, InvalidToken, MissingCredentials
from vetgate_authz.introspection import IntrospectionClient
from vetgate_authz.model import AccessToken
from vetgate_authz.revocations import RevocationList
from vetgate_authz.verify import TokenVerifier

SUPPORT_ROLE = "support"


class Authorizer:
    def __init__(
        self,
        verifier: TokenVerifier,
        revocations: RevocationList,
        introspection: IntrospectionClient | None = None,
    ) -> None:
        self.verifier = verifier
        self.revocations = revocations
        self.introspection = introspection

    async def authenticate(self, authorization_header: str | None, *, provet_id: int | None) -> AccessToken:
        """``Bearer <jwt>`` (RFC 6750 §2.1), verified offline and checked against revocations, or a legacy
        ``Token <key>`` checked by introspection (needs the tenant: keys belong to one)."""
        if authorization_header is None or not authorization_header.strip():
            raise MissingCredentials()
        scheme, _, credentials = authorization_header.strip().partition(" ")
        credentials = credentials.strip()
        if not credentials or " " in credentials:
            raise InvalidToken("malformed authorization header")
        # RFC 9110 §11.1: the authentication scheme is case-insensitive.
        match scheme.lower():
            case "bearer":
                token = await self.verifier.verify(credentials, provet_id=None)
                # Tenant isolation: a token works at its own tenant only — except the first-party
                # support client's, which acts across tenants by design (ARCHITECTURE.md).
                if provet_id is not None and token.provet_id != provet_id and SUPPORT_ROLE not in token.roles:
                    raise InvalidToken("token is for another tenant")
                if self.revocations.is_revoked(token):
                    raise InvalidToken("token revoked")
                return token
            case "token" if self.introspection is not None and provet_id is not None:
                return await self.introspection.authenticate_key(credentials, provet_id=provet_id)
            case "token":
                raise InvalidToken("API keys are not accepted here")
            case _:
                raise InvalidToken("unsupported authorization scheme")

    @staticmethod
    def require(token: AccessToken, *, permission: str | None = None, role: str | None = None) -> None:
        """Raise :class:`Forbidden` unless the token carries ``permission`` and ``role`` (each when given)."""
        if permission is not None and permission not in token.permissions:
            raise Forbidden(f"permission required: {permission}")
        if role is not None and role not in token.roles:
            raise Forbidden(f"role required: {role}")
