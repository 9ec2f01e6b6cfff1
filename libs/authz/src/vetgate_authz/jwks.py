"""Verification keys from the authorization server's JWKS (RFC 7517), imported once and cached by ``kid``.

An unknown ``kid`` triggers a refetch (that is how key rotation reaches us), but at most once per
``min_refresh_interval``: made-up ``kid`` values must not become a flood of requests to the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from vetgate_authz.errors import AuthUnavailable, InvalidToken

log = logging.getLogger(__name__)


def jwks_url(issuer: str) -> str:
    """The JWKS of issuer ``<base>/<provet_id>/oauth2`` is ``<base>/<provet_id>/oauth2/jwks/`` (ADR 0006)."""
    return f"{issuer.rstrip('/')}/jwks/"


class JwksCache:
    """The ES256 keys of one issuer's JWKS."""

    def __init__(
        self,
        url: str,
        *,
        http: httpx.AsyncClient,
        min_refresh_interval: float = 30.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._http = http
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, ECKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> ECKey:
        """The key for ``kid``; refetches the JWKS when ``kid`` is unknown or the set is older than ``max_age``."""
        key = self._keys.get(kid)
        if key is not None and not self._stale():
            return key
        async with self._lock:  # concurrent misses share one fetch
            key = self._keys.get(kid)
            if (key is None or self._stale()) and self._may_fetch():
                await self._refresh(tolerate_failure=key is not None)
                key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown key id")
        return key

    def cached_key(self, kid: str) -> ECKey | None:
        """The key for ``kid`` if held and fresh, without fetching."""
        return None if self._stale() else self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age

    def _may_fetch(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self._min_refresh_interval

    async def _refresh(self, *, tolerate_failure: bool) -> None:
        self._attempted_at = self._clock()
        try:
            response = await self._http.get(self.url, headers={"Accept": "application/json"})
            if not (keys := _import_keys(response.raise_for_status().json())):
                raise ValueError("no usable ES256 keys")
        except (httpx.HTTPError, ValueError) as exc:
            # Keep the keys we have: a retired key stays published until its tokens expire (ADR 0006),
            # so what we hold is still right while the authorization server is unreachable.
            log.warning("JWKS fetch failed: %s: %s", self.url, type(exc).__name__)
            if tolerate_failure:
                return
            raise AuthUnavailable("signing keys unavailable") from exc
        self._keys = keys
        self._fetched_at = self._attempted_at


def _import_keys(document: Any) -> dict[str, ECKey]:
    keys: dict[str, ECKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for jwk in entries if isinstance(entries, list) else []:
        # RFC 7517 §5: skip keys we do not understand rather than failing the set. Only P-256 signing keys
        # are of use (RFC 7517 §4.2 "use", §4.4 "alg"; RFC 7518 §3.4 ES256 = P-256 + SHA-256).
        if not isinstance(jwk, dict) or not isinstance(kid := jwk.get("kid"), str):
            continue
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "ES256") != "ES256":
            continue
        try:
            # Public members only: a private "d" published by mistake is not ours to import.
            key = ECKey.import_key({"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"], "kid": kid})
        except (JoseError, ValueError, KeyError, TypeError):
            continue
        # The verifier relies on this (ES256 is P-256 only) instead of checking it per token.
        public = key.public_key
        if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
            keys[kid] = key
    return keys


class IssuerKeys:
    """One :class:`JwksCache` per issuer, sharing one HTTP client; at most ``max_issuers`` are kept (LRU)."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient | None = None,
        min_refresh_interval: float = 30.0,
        max_age: float = 3600.0,
        max_issuers: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._max_issuers = max_issuers
        self._clock = clock
        self._caches: dict[str, JwksCache] = {}

    def for_issuer(self, issuer: str) -> JwksCache:
        cache = self._caches.pop(issuer, None)
        if cache is None:
            cache = JwksCache(
                jwks_url(issuer),
                http=self._http,
                min_refresh_interval=self._min_refresh_interval,
                max_age=self._max_age,
                clock=self._clock,
            )
            if len(self._caches) >= self._max_issuers:
                del self._caches[next(iter(self._caches))]
        self._caches[issuer] = cache  # most recently used last
        return cache

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
