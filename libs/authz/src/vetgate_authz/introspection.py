"""Legacy ``Authorization: Token <key>`` API keys, checked through token introspection (RFC 7662).

Answers are cached briefly, positive and negative alike, so a busy integration costs one introspection call
per key every few seconds and a cached check is a dictionary lookup. The cache is keyed by a SHA-256 of the
key, and the key itself is never logged, stored or put in an exception.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from vetgate_authz.errors import AuthUnavailable, InvalidToken
from vetgate_authz.model import AccessToken

log = logging.getLogger(__name__)


class IntrospectionResponse(BaseModel):
    """RFC 7662 §2.2, plus Vetgate's ``provet_id``, ``permissions`` and ``roles``; other members are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    active: StrictBool
    token_type: str | None = None
    sub: str | None = None
    username: str | None = None
    client_id: str | None = None
    provet_id: int | None = None
    scope: str = ""
    permissions: list[str] = []
    roles: list[str] = []
    jti: str | None = None
    iat: int | None = None
    exp: int | None = None


class IntrospectionClient:
    """Asks ``<token base>/<provet_id>/oauth2/introspect/`` about API keys, as a confidential client."""

    def __init__(
        self,
        *,
        token_base: str,
        client_id: str,
        client_secret: str,
        http: httpx.AsyncClient | None = None,
        positive_ttl: float = 5.0,
        negative_ttl: float = 1.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = token_base.rstrip("/")
        # RFC 6749 §2.3.1: client_id and secret are form-urlencoded before HTTP Basic (RFC 7617) encoding.
        self._auth = httpx.BasicAuth(quote(client_id, safe=""), quote(client_secret, safe=""))
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._positive_ttl = positive_ttl
        self._negative_ttl = negative_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._cache: dict[tuple[int, bytes], tuple[float, AccessToken | None]] = {}  # → (expires, answer)

    async def authenticate_key(self, key: str, *, provet_id: int) -> AccessToken:
        """The API key's caller, or :class:`InvalidToken` if the authorization server says it is not active."""
        cache_key = (provet_id, hashlib.sha256(key.encode()).digest())
        cached = self._cache.get(cache_key)
        if cached is not None and cached[0] > self._clock():
            answer = cached[1]
        else:
            answer = await self._introspect(key, provet_id)
            ttl = self._positive_ttl if answer is not None else self._negative_ttl
            self._cache.pop(cache_key, None)
            if len(self._cache) >= self._max_entries:
                del self._cache[next(iter(self._cache))]  # oldest first
            self._cache[cache_key] = (self._clock() + ttl, answer)
        if answer is None:
            raise InvalidToken("invalid API key")
        return answer

    async def _introspect(self, key: str, provet_id: int) -> AccessToken | None:
        url = f"{self._base}/{provet_id}/oauth2/introspect/"
        try:
            # RFC 7662 §2.1: POST, application/x-www-form-urlencoded, "token"; the caller authenticates.
            response = await self._http.post(url, data={"token": key}, auth=self._auth)
            response.raise_for_status()
            answer = IntrospectionResponse.model_validate_json(response.content)
        except httpx.HTTPStatusError as exc:
            log.warning("introspection refused: %s %s", url, exc.response.status_code)
            raise AuthUnavailable("introspection unavailable") from exc
        except (httpx.HTTPError, ValidationError) as exc:
            log.warning("introspection failed: %s %s", url, type(exc).__name__)
            raise AuthUnavailable("introspection unavailable") from exc
        return _api_key_token(answer, provet_id)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


def _api_key_token(answer: IntrospectionResponse, provet_id: int) -> AccessToken | None:
    # RFC 7662 §2.2: only "active" says anything; the Token scheme is for API keys only (not JWTs in disguise).
    if not answer.active or answer.token_type != "api_key":
        return None
    if answer.provet_id is not None and answer.provet_id != provet_id:
        return None  # another tenant's key
    return AccessToken(
        subject=answer.sub or answer.username or "",
        client_id=answer.client_id or "",
        provet_id=provet_id,
        scopes=frozenset(answer.scope.split()),
        permissions=frozenset(answer.permissions),
        roles=frozenset(answer.roles),
        jti=answer.jti,
        issued_at=_instant(answer.iat),
        expires_at=_instant(answer.exp),
        token_type="api_key",
    )


def _instant(timestamp: int | None) -> datetime | None:
    try:
        return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None
