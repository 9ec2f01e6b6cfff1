"""A resource server's own credentials at the authorization server, as HTTP Basic or as a bearer token.

A multi-tenant resource server introspects API keys of every tenant, which only the support client may do
(ARCHITECTURE.md): it gets an access token for it with the client_credentials grant (RFC 6749 §4.4), reuses
it until shortly before it expires, and gets a new one when a request is answered 401 (the token was revoked,
or the signing key retired early). The secret and the token are never logged.

Not Authlib's ``AsyncOAuth2Client``: it is an ``httpx.AsyncClient`` of its own (this one shares the
resource server's), refuses to send before a token was fetched by hand, and does not renew on a 401.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from vetgate_authz.errors import AuthUnavailable

log = logging.getLogger(__name__)

DEFAULT_LIFETIME = 300
"""Seconds we assume a token lives when the answer has no ``expires_in`` (RFC 6749 §5.1: it is optional)."""


@dataclass(frozen=True)
class ClientCredentials:
    """A confidential client: where it gets tokens, and how it authenticates there."""

    token_url: str
    client_id: str
    client_secret: SecretStr


def client_basic_auth(client_id: str, client_secret: str) -> httpx.BasicAuth:
    # RFC 6749 §2.3.1: client_id and secret are form-urlencoded before HTTP Basic (RFC 7617) encoding.
    return httpx.BasicAuth(quote(client_id, safe=""), quote(client_secret, safe=""))


class _TokenAnswer(BaseModel):
    """RFC 6749 §5.1; other members are ignored."""

    model_config = ConfigDict(extra="ignore")

    access_token: str
    token_type: str
    expires_in: int | None = None


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float
    expires_at: float


class ClientCredentialsAuth(httpx.Auth):
    """``Authorization: Bearer <token of this client>`` on every request (async clients only).

    One token is shared by all requests; concurrent renewals are one token request. After a failed token
    request no other is made for ``retry_interval`` seconds (callers get :class:`AuthUnavailable` at once), so
    a disabled client does not turn every incoming request into a token request.
    """

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        http: httpx.AsyncClient,
        renew_early: float = 60.0,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._renew_early = renew_early
        self._retry_interval = retry_interval
        self._clock = clock
        self._token: _Token | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ClientCredentialsAuth needs an httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # RFC 6750 §3.1 invalid_token: ours is no longer good
            request.headers["Authorization"] = f"Bearer {await self.token(stale=token)}"
            yield request

    async def token(self, *, stale: str | None = None) -> str:
        """The current access token; a new one if it is due for renewal or is ``stale`` (refused by a server)."""
        current = self._token
        if current is not None and current.value != stale and self._clock() < current.renew_at:
            return current.value
        async with self._lock:  # concurrent renewals share one token request
            current = self._token
            if current is not None and current.value != stale and self._clock() < current.renew_at:
                return current.value  # renewed while we waited
            # Until it expires, a token due for renewal still works while the token endpoint is down.
            usable = current if current is not None and current.value != stale else None
            if self._failed_at is not None and self._clock() - self._failed_at < self._retry_interval:
                return self._usable(usable)
            try:
                self._token = await self._fetch()
            except AuthUnavailable:
                self._failed_at = self._clock()
                return self._usable(usable)
            self._failed_at = None
            return self._token.value

    def _usable(self, token: _Token | None) -> str:
        if token is None or self._clock() >= token.expires_at:
            self._token = None
            raise AuthUnavailable("client credentials unavailable")
        return token.value

    async def _fetch(self) -> _Token:
        url = self._credentials.token_url
        auth = client_basic_auth(self._credentials.client_id, self._credentials.client_secret.get_secret_value())
        try:
            response = await self._http.post(url, data={"grant_type": "client_credentials"}, auth=auth)
            response.raise_for_status()
            answer = _TokenAnswer.model_validate_json(response.content)
        except httpx.HTTPStatusError as exc:
            log.warning("client credentials refused: %s %s", url, exc.response.status_code)
            raise AuthUnavailable("client credentials refused") from exc
        except (httpx.HTTPError, ValidationError) as exc:
            log.warning("token request failed: %s %s", url, type(exc).__name__)
            raise AuthUnavailable("client credentials unavailable") from exc
        if answer.token_type.lower() != "bearer":  # RFC 6749 §7.1: we only know how to send bearer tokens
            log.warning("token request answered an unusable token type: %s", url)
            raise AuthUnavailable("client credentials unavailable")
        lifetime = answer.expires_in if answer.expires_in is not None else DEFAULT_LIFETIME
        now = self._clock()
        return _Token(answer.access_token, now + lifetime - min(self._renew_early, lifetime / 2), now + lifetime)
