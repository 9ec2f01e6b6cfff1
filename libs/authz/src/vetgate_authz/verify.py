"""Offline verification of access tokens: RFC 9068 JWTs, ES256 only, one issuer per tenant (ADR 0006)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from vetgate_authz.claims import b64url, json_object, split_token, tenant_of_issuer, to_access_token
from vetgate_authz.errors import InvalidToken
from vetgate_authz.jwks import IssuerKeys
from vetgate_authz.model import AccessToken

ALGORITHMS = ["ES256"]
"""Pinned (RFC 8725 §3.1, §3.2): the token's header never picks the algorithm, so `none`, HS256 keyed with the
public key, and RS256 are all refused."""

_ES256 = ec.ECDSA(hashes.SHA256())

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
"""RFC 9068 §4: the resource server MUST check ``typ`` is one of these (media types: case-insensitive)."""

_MAX_REMEMBERED_HEADERS = 256  # a few signing keys times typ spellings; anything beyond is somebody probing
_MAX_REMEMBERED_ISSUERS = 4096  # one per tenant


class TokenVerifier:
    """Verifies access tokens against the JWKS of trusted issuers ``<token base>/<provet_id>/oauth2``.

    ``cache_size`` verified tokens are remembered (token string → result) so a client presenting the same
    token on every request pays for one ECDSA verification, not one per request; expiry and tenant are still
    checked on every call, and any JWKS refetch for the issuer makes its remembered tokens verify again.
    ``0`` turns the cache off.
    """

    def __init__(
        self,
        *,
        token_bases: Sequence[str],
        keys: IssuerKeys,
        audience: str = "vetgate",
        leeway: int = 30,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bases = tuple(base.rstrip("/") for base in token_bases)
        self._keys = keys
        self._leeway = leeway
        self._clock = clock
        self._cache_size = cache_size
        self._verified: dict[str, tuple[AccessToken, str, str, ECKey]] = {}  # token → (result, iss, kid, key)
        self._audience = audience
        self._header_kids: dict[str, str] = {}  # encoded JOSE header → its kid, for headers already accepted
        self._issuer_tenants: dict[str, int] = {}  # trusted issuer → its provet_id

    async def verify(self, token: str, *, provet_id: int | None) -> AccessToken:
        """The verified token; ``provet_id`` is the tenant this resource server is serving (None: any tenant)."""
        remembered = self._remembered(token, provet_id)
        if remembered is not None:
            return remembered
        header, payload, signature = split_token(token)
        claims = json_object(payload)  # unverified until the signature is checked: it only chooses the key here
        kid = self._header_kids.get(header) or self._check_header(header)
        # The issuer picks the JWKS, so it is checked (unverified) before anything is fetched for it.
        issuer, tenant = self._trusted_issuer(claims.get("iss"), provet_id)
        keys = self._keys.for_issuer(issuer)
        key = keys.cached_key(kid) or await keys.get_key(kid)
        _verify_es256(token[: len(header) + len(payload) + 1], signature, key)
        # The signature covers exactly the bytes the claims were parsed from: from here on they are trusted.
        access_token = to_access_token(
            claims, tenant=tenant, audience=self._audience, now=self._clock(), leeway=self._leeway
        )
        self._remember(token, access_token, issuer, kid, key)
        return access_token

    def _check_header(self, segment: str) -> str:
        """The ``kid`` of an acceptable JOSE header; acceptable headers are remembered (honest ones are few)."""
        header = json_object(segment)
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("unsupported algorithm")
        typ = header.get("typ")
        if type(typ) is not str or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken("not an access token")
        if "crit" in header:  # RFC 7515 §4.1.11: we implement no extensions (e.g. RFC 7797 unencoded payloads)
            raise InvalidToken("unsupported header")
        kid = header.get("kid")
        if type(kid) is not str or not kid:
            raise InvalidToken("missing key id")
        _keep(self._header_kids, segment, kid, _MAX_REMEMBERED_HEADERS)
        return kid

    def _trusted_issuer(self, iss: Any, provet_id: int | None) -> tuple[str, int]:
        if type(iss) is not str:
            raise InvalidToken("untrusted issuer")
        tenant = self._issuer_tenants.get(iss)
        if tenant is None:
            tenant = tenant_of_issuer(iss, self._bases)
            if tenant is None:
                raise InvalidToken("untrusted issuer")
            _keep(self._issuer_tenants, iss, tenant, _MAX_REMEMBERED_ISSUERS)
        if provet_id is not None and tenant != provet_id:
            # Tenant isolation (ADR 0006): a token of tenant A is never accepted at tenant B.
            raise InvalidToken("token is for another tenant")
        return iss, tenant

    def _remembered(self, token: str, provet_id: int | None) -> AccessToken | None:
        entry = self._verified.get(token)
        if entry is None:
            return None
        access_token, issuer, kid, key = entry
        if self._keys.for_issuer(issuer).cached_key(kid) is not key:
            del self._verified[token]  # keys were refetched (or are stale): verify again
            return None
        if provet_id is not None and access_token.provet_id != provet_id:
            raise InvalidToken("token is for another tenant")
        assert access_token.exp is not None
        if access_token.exp <= self._clock() - self._leeway:  # as RFC 7519 §4.1.4 above
            del self._verified[token]
            raise InvalidToken("token expired")
        return access_token

    def _remember(self, token: str, access_token: AccessToken, issuer: str, kid: str, key: ECKey) -> None:
        if self._cache_size > 0:
            _keep(self._verified, token, (access_token, issuer, kid, key), self._cache_size)


def _keep(memo: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Remember ``value`` under ``key`` in a memo of at most ``limit`` entries, dropping the oldest first."""
    if len(memo) >= limit:
        del memo[next(iter(memo))]
    memo[key] = value


def _verify_es256(signing_input: str, encoded_signature: str, key: ECKey) -> None:
    """RFC 7518 §3.4: ES256 over ``header.payload``, the signature being R || S (32 bytes each).

    Done with OpenSSL directly rather than a second full JWS parse: the header and claims were already
    parsed, and the ECDSA verify (~88 µs here) is then nearly all a fresh token costs. ``key`` is a P-256
    public key: the JWKS cache imports nothing else.
    """
    try:
        signature = b64url(encoded_signature)
    except ValueError as exc:
        raise InvalidToken("invalid signature") from exc
    if len(signature) != 64:
        raise InvalidToken("invalid signature")
    try:
        key.public_key.verify(der_signature(signature), signing_input.encode("ascii"), _ES256)
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise InvalidToken("invalid signature") from exc


def der_signature(r_and_s: bytes) -> bytes:
    """The DER ECDSA-Sig-Value (RFC 3279 §2.2.3) OpenSSL verifies, from JWS's R || S (RFC 7518 §3.4).

    Written out rather than through ``encode_dss_signature``, which goes by way of two Python ints: this
    is a third of its cost, on every fresh token. OpenSSL parses the result strictly, so a mistake here
    could only refuse a good signature, never accept a bad one; a test holds it to the library's output.
    """
    r, s = _der_integer(r_and_s[:32]), _der_integer(r_and_s[32:])
    return b"\x30" + bytes((len(r) + len(s),)) + r + s  # at most 70 bytes: the short length form


def _der_integer(magnitude: bytes) -> bytes:
    """X.690 §8.3: minimal big-endian two's complement, so a leading 0x00 when the top bit is set."""
    value = magnitude.lstrip(b"\x00") or b"\x00"
    if value[0] & 0x80:
        value = b"\x00" + value
    return b"\x02" + bytes((len(value),)) + value
