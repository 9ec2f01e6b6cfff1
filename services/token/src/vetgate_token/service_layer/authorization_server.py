"""Authlib's authorization server, driven from async code.

Authlib 1.9 is synchronous. Everything its grants read is loaded before it runs: the route reads the
body and preloads the client (and the code, refresh token and person) into a GrantCall, then hands
Authlib a request over that. Nothing in here does I/O, so it runs on the event loop without blocking it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationEndpointMixin, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant

from vetgate_token.adapters.keys import KeyRing
from vetgate_token.domain.claims import access_token_claims, id_token_claims
from vetgate_token.domain.clients import SCOPES, RegisteredClient
from vetgate_token.domain.grants import Person
from vetgate_token.service_layer.code_grants import AuthorizationCode, RefreshTokenRotation, S256Challenge
from vetgate_token.service_layer.prepared import GrantCall, PreparedRequest, TokenResponse, current_call, within

CLIENT_AUTHENTICATION_FAILED = "Client authentication failed"
BASIC_CHALLENGE = 'Basic realm="vetgate"'  # RFC 6749 §5.2: a 401 names the scheme the client used

__all__ = [
    "BASIC_CHALLENGE",
    "CLIENT_AUTHENTICATION_FAILED",
    "GrantCall",
    "PreparedRequest",
    "TokenResponse",
    "VetgateAuthorizationServer",
]


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    # RFC 6749 §4.4: confidential clients only; secret in the Authorization header or the body.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]


class VetgateAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, keys: KeyRing, base_url: str, access_token_ttl: int) -> None:
        super().__init__(scopes_supported=sorted(SCOPES))
        self._keys = keys
        self._base_url = base_url
        self._ttl = access_token_ttl
        self.register_grant(ClientCredentials)
        self.register_grant(AuthorizationCode, [S256Challenge(required=True)])
        self.register_grant(RefreshTokenRotation)
        self.register_token_generator("default", self._generate)

    def token_response(
        self, method: str, uri: str, headers: Mapping[str, str], form: Mapping[str, str], call: GrantCall
    ) -> TokenResponse:
        with within(call):
            status, body, response_headers = self.create_token_response(PreparedRequest(method, uri, headers, form))
        return TokenResponse(status, body, list(response_headers))

    def consent_grant(self, request: PreparedRequest, call: GrantCall) -> AuthorizationEndpointMixin:
        """The validated authorization request (RFC 6749 §4.1.1); raises OAuth2Error when it is not."""
        with within(call):
            try:
                return self.get_consent_grant(request)
            except ValueError as exc:
                # Authlib quotes parameters into its error descriptions and refuses (ValueError) one holding
                # characters RFC 6749 §5.2 forbids: a response_type with one never became an OAuth error.
                raise InvalidRequestError() from exc

    def authorization_response(
        self, grant: AuthorizationEndpointMixin, person: Person | None, call: GrantCall
    ) -> TokenResponse:
        """The redirect back to the client: a code when ``person`` approved, access_denied when None."""
        with within(call):
            status, body, headers = self.create_authorization_response(grant.request, person, grant)
        return TokenResponse(status, body or {}, list(headers))

    # --- Authlib's hooks -------------------------------------------------------------------------

    def query_client(self, client_id: str) -> RegisteredClient | None:
        client = current_call().client
        return client if client is not None and client.client_id == client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs; refresh tokens are stored by the route afterwards."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        if isinstance(body, dict) and body.get("error") == "invalid_client":
            # One answer whether the client is unknown here, public, disabled or its secret wrong: Authlib's
            # descriptions tell these apart (an oracle for client ids) and print our methods as a Python list.
            body = {**body, "error_description": CLIENT_AUTHENTICATION_FAILED}
            headers = [(name, value) for name, value in headers if name.lower() != "www-authenticate"]
            if status == 401:
                headers.append(("WWW-Authenticate", BASIC_CHALLENGE))
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Audit happens in the route, where the outcome is known."""

    def _generate(
        self,
        grant_type: str,
        client: RegisteredClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        scope = client.get_allowed_scope(scope)
        person = user if isinstance(user, Person) else None
        now = int(time.time())
        claims = access_token_claims(
            base_url=self._base_url,
            provet_id=client.provet_id,
            # With authorization_code the integration acts as the person, with the person's rights.
            subject=person.person_id if person else client.subject,
            client_id=client.client_id,
            scope=scope,
            permissions=person.permissions if person else client.permissions,
            roles=() if person else client.roles,
            issued_at=max(now, client.tokens_issued_from),
            not_before=now,
            lifetime=self._ttl,
        )
        token = {
            "access_token": self._keys.sign(claims),
            "token_type": "Bearer",
            "expires_in": self._ttl,
            "scope": scope,
        }
        if person is None:
            return token  # client_credentials: no refresh token (RFC 6749 §4.4.3)
        call = current_call()
        call.access_claims = claims
        if include_refresh_token:
            call.refresh_token = token["refresh_token"] = secrets.token_urlsafe(32)
        if grant_type == "authorization_code" and "openid" in scope.split() and call.code is not None:
            token["id_token"] = self._keys.sign_id_token(
                id_token_claims(
                    base_url=self._base_url,
                    provet_id=client.provet_id,
                    subject=person.person_id,
                    client_id=client.client_id,
                    auth_time=call.code.auth_time,
                    nonce=call.code.nonce,
                    issued_at=now,
                    lifetime=self._ttl,
                )
            )
        return token
