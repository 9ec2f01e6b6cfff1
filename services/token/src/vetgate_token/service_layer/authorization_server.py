"""Authlib's authorization server, driven from async code.

Authlib 1.9 is synchronous. Everything its grants read is loaded before it runs: the route reads the
body and looks the client up (async, cached), then hands Authlib a request whose client is already
known. Nothing in here does I/O, so it runs on the event loop without blocking it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from vetgate_token.adapters.keys import KeyRing
from vetgate_token.domain.claims import access_token_claims
from vetgate_token.domain.clients import SCOPES, RegisteredClient

_current_client: contextvars.ContextVar[RegisteredClient | None] = contextvars.ContextVar("client", default=None)


@dataclass(frozen=True)
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


class PreparedRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request over a body the async route has already read."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        form: Mapping[str, str],
        args: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(method, uri, headers=headers)  # keep it case-insensitive (Starlette Headers)
        self._form = dict(form)
        self._args = dict(args or {})
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


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
        self.register_token_generator("default", self._generate)

    def token_response(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        form: Mapping[str, str],
        client: RegisteredClient | None,
    ) -> TokenResponse:
        request = PreparedRequest(method, uri, headers, form)
        token = _current_client.set(client)
        try:
            status, body, response_headers = self.create_token_response(request)
        finally:
            _current_client.reset(token)
        return TokenResponse(status, body, list(response_headers))

    # --- Authlib's hooks -------------------------------------------------------------------------

    def query_client(self, client_id: str) -> RegisteredClient | None:
        client = _current_client.get()
        return client if client is not None and client.client_id == client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs; nothing to store for client_credentials."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
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
        now = int(time.time())
        claims = access_token_claims(
            base_url=self._base_url,
            provet_id=client.provet_id,
            subject=client.subject,
            client_id=client.client_id,
            scope=scope,
            permissions=client.permissions,
            roles=client.roles,
            issued_at=max(now, client.tokens_issued_from),
            not_before=now,
            lifetime=self._ttl,
        )
        return {
            "access_token": self._keys.sign(claims),
            "token_type": "Bearer",
            "expires_in": self._ttl,
            "scope": scope,
        }
