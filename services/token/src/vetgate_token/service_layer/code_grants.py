"""authorization_code (RFC 6749 §4.1) with PKCE (RFC 7636), and refresh_token (RFC 6749 §6), for Authlib.

The hooks do no I/O: they read what the route preloaded into the GrantCall and record what must be
stored; the route stores it once Authlib has answered.
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge

from vetgate_token.domain.clients import RegisteredClient
from vetgate_token.domain.grants import CODE_LIFETIME, IssuedCode, Person, RefreshToken, digest
from vetgate_token.service_layer.prepared import current_call

# Public clients prove nothing but PKCE; confidential ones authenticate as usual (RFC 6749 §2.3).
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def _person_for(person_id: str, provet_id: int) -> Person | None:
    person = current_call().person
    if person is None or not person.active:
        return None
    return person if person.person_id == person_id and person.provet_id == provet_id else None


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """RFC 9700 §2.1.1: S256 only (`plain` refused); mandatory for public clients, optional otherwise.

    Authlib's ``required`` applies at the token endpoint to clients authenticating with ``none``, and
    a code issued with a challenge always needs the verifier, whoever the client is.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        # RFC 7636 §4.3: a missing method means `plain`, which we do not accept.
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        client: RegisteredClient = grant.request.client
        if client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("Public clients must use PKCE (code_challenge with S256)")


class AuthorizationCode(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        call = current_call()
        client: RegisteredClient = request.client
        person: Person = request.user
        data = request.payload.data
        call.new_code = IssuedCode(
            code_hash=digest(code),  # RFC 9700 §4.2: only a hash at rest
            client_id=client.client_id,
            provet_id=client.provet_id,
            person_id=person.person_id,
            redirect_uri=data.get("redirect_uri") or "",  # RFC 6749 §4.1.3: checked only if it was sent
            scope=request.scope,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            nonce=data.get("nonce"),
            auth_time=call.auth_time,
            expires_at=call.now + CODE_LIFETIME,
        )

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        call = current_call()
        found = call.code
        if found is None or found.code_hash != digest(code) or found.client_id != client.client_id:
            return None
        # RFC 6749 §4.1.2: single use and short-lived; a reused one is dealt with by the route.
        return found if found.used_at is None and call.now < found.expires_at else None

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Consumed by the route, atomically, in the transaction that stores the refresh token."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Person | None:
        return _person_for(authorization_code.person_id, authorization_code.provet_id)

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)  # 256 bits


class RefreshTokenRotation(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # RFC 9700 §4.14.2: rotate on every use

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        call = current_call()
        found = call.refresh
        if found is None or found.token_hash != digest(refresh_token):
            return None
        return found if found.usable_at(call.now) else None

    def authenticate_user(self, refresh_token: RefreshToken) -> Person | None:
        return _person_for(refresh_token.person_id, refresh_token.provet_id)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Rotated by the route, atomically, in the transaction that stores its successor."""


def preloaded_ids(form: dict[str, Any]) -> tuple[str | None, str | None]:
    """Hashes of the code and refresh token in a token request, for the route to preload."""
    code, refresh = form.get("code"), form.get("refresh_token")
    return (digest(code) if code else None, digest(refresh) if refresh else None)
