"""Legacy ``Authorization: Token <key>`` API keys, checked through token introspection (RFC 7662).

Answers are cached, positive and negative alike, so a busy integration costs one introspection call per key
every so often and a cached check is a dictionary lookup. The cache is keyed by a SHA-256 of the key, and the
key itself is never logged, stored or put in an exception.

How long an active answer is trusted depends on whether revocations are pushed to us (docs/decisions/0016):
while the ``KeyRevoked`` feed is live (:class:`RevokedApiKeys`), ``positive_ttl`` (30 s) — a revocation
reaches this cache through the feed within a fraction of a second; otherwise ``fallback_ttl`` (1 s), so a
revoked key is refused within a second even while the feed is down. Uses answered from the cache are
counted in a :class:`UsageMeter` (the token service counts the introspections themselves).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

import httpx
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from vetgate_authz.api_key_revocations import RevokedApiKeys, api_key_id
from vetgate_authz.errors import AuthUnavailable, InvalidToken
from vetgate_authz.model import AccessToken, is_instant
from vetgate_authz.usage import UsageMeter

log = logging.getLogger(__name__)

IN_FLIGHT_MARGIN = 60.0
"""Seconds an introspection answer may take to arrive, with a wide margin (requests time out after 5 s)."""


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
    """Asks ``<token base>/<provet_id>/oauth2/introspect/`` about API keys.

    ``auth`` is how the resource server authenticates there: :func:`client_basic_auth` for a confidential
    client of one tenant, or :class:`ClientCredentialsAuth` for the support client (valid at every tenant).
    """

    def __init__(
        self,
        *,
        token_base: str,
        auth: httpx.Auth,
        http: httpx.AsyncClient | None = None,
        revoked: RevokedApiKeys | None = None,
        usage: UsageMeter | None = None,
        positive_ttl: float = 30.0,
        fallback_ttl: float = 1.0,
        negative_ttl: float = 1.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = token_base.rstrip("/")
        self._auth = auth
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._revoked = revoked
        if revoked is not None:
            # A revoked id must outlive every answer cached (or in flight) when it arrived.
            revoked.keep_for_at_least(positive_ttl + IN_FLIGHT_MARGIN)
        self._usage = usage
        self._positive_ttl = positive_ttl
        self._fallback_ttl = fallback_ttl
        self._negative_ttl = negative_ttl
        self._max_entries = max_entries
        self._clock = clock
        # (provet_id, SHA-256 of the key) → (answered at, answer, API key id)
        self._cache: dict[tuple[int, bytes], tuple[float, AccessToken | None, str | None]] = {}

    async def authenticate_key(self, key: str, *, provet_id: int) -> AccessToken:
        """The API key's caller, or :class:`InvalidToken` if the authorization server says it is not active."""
        cache_key = (provet_id, hashlib.sha256(key.encode()).digest())
        cached = self._cache.get(cache_key)
        if cached is not None and self._clock() - cached[0] < self._ttl(cached[1], cached[2]):
            _, answer, key_id = cached
            from_cache = True
        else:
            answer = await self._introspect(key, provet_id)
            key_id = None if answer is None else api_key_id(answer.jti)
            self._remember(cache_key, answer, key_id)
            from_cache = False
        if answer is None:
            raise InvalidToken("invalid API key")
        if key_id is not None and self._revoked is not None and self._revoked.is_revoked(key_id):
            # Pushed by KeyRevoked: also beats an answer that was on its way while the key was revoked.
            self._remember(cache_key, None, None)
            raise InvalidToken("API key revoked")
        if from_cache and key_id is not None and self._usage is not None:
            self._usage.record(key_id)
        return answer

    def _ttl(self, answer: AccessToken | None, key_id: str | None) -> float:
        if answer is None:
            return self._negative_ttl
        # An answer without a key id cannot be matched against KeyRevoked: never trust it for long.
        pushed = key_id is not None and self._revoked is not None and self._revoked.live
        return self._positive_ttl if pushed else self._fallback_ttl

    def _remember(self, cache_key: tuple[int, bytes], answer: AccessToken | None, key_id: str | None) -> None:
        self._cache.pop(cache_key, None)
        if len(self._cache) >= self._max_entries:
            del self._cache[next(iter(self._cache))]  # oldest first
        self._cache[cache_key] = (self._clock(), answer, key_id)

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
        jti=api_key_id(answer.jti) or answer.jti,
        iat=_instant(answer.iat),
        exp=_instant(answer.exp),
        token_type="api_key",
    )


def _instant(timestamp: int | None) -> int | None:
    return timestamp if is_instant(timestamp) else None
