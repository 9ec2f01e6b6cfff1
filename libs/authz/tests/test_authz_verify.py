"""TokenVerifier: ES256 RFC 9068 tokens from a trusted per-tenant issuer, and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import pytest
from authz_testkit import BASE, Clock, JwksServer, b64url, claims, issuer, new_key, sign, unsigned, verifier
from joserfc import jwt
from joserfc.jwk import RSAKey
from vetgate_authz import InvalidToken
from vetgate_authz.claims import REQUIRED_CLAIMS


async def test_valid_token_is_accepted() -> None:
    key = new_key()
    server = JwksServer([key])
    async with server.client() as http:
        payload = claims(7, permissions=["consultations"], roles=["admin"], scope="restapi openid")
        token = await verifier(http).verify(sign(key, payload), provet_id=7)
    assert (token.subject, token.client_id, token.provet_id) == ("virtual-user-1", "client-1", 7)
    assert token.scopes == {"restapi", "openid"}
    assert token.permissions == {"consultations"} and token.roles == {"admin"}
    assert token.jti == payload["jti"] and token.token_type == "bearer"
    assert token.issued_at is not None and int(token.issued_at.timestamp()) == payload["iat"]
    assert token.expires_at is not None and int(token.expires_at.timestamp()) == payload["exp"]
    assert server.hits == [7], "the JWKS of the token's own tenant, fetched once"


async def test_any_trusted_tenant_when_the_route_has_none() -> None:
    key = new_key()
    async with JwksServer([key]).client() as http:
        token = await verifier(http).verify(sign(key, claims(3)), provet_id=None)
    assert token.provet_id == 3


async def test_media_type_form_of_typ_and_audience_list_are_accepted() -> None:
    key = new_key()
    async with JwksServer([key]).client() as http:
        token = sign(key, claims(1, aud=["other", "vetgate"]), typ="application/at+jwt")
        assert (await verifier(http).verify(token, provet_id=1)).provet_id == 1


def _refused_tokens() -> dict[str, Any]:
    """Token factories (given the trusted EC key) and the reason each must be refused with."""

    def none_alg(key: Any) -> str:
        return unsigned({"alg": "none", "typ": "at+jwt", "kid": key.kid}, claims(1))

    def hs256_with_public_key(key: Any) -> str:
        # The classic confusion: HMAC keyed with the public key, which the attacker knows.
        header = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}).encode())
        body = b64url(json.dumps(claims(1)).encode())
        secret = json.dumps(key.as_dict(private=False)).encode()
        signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{b64url(signature)}"

    def rs256(key: Any) -> str:
        rsa = RSAKey.generate_key(2048, parameters={"kid": str(key.kid)})
        return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, claims(1), rsa, algorithms=["RS256"])

    def es256_signed_by_someone_else(key: Any) -> str:
        return sign(new_key(), claims(1), kid=key.kid)

    now = time.time()
    return {
        "none": (none_alg, "unsupported algorithm"),
        "hs256-public-key": (hs256_with_public_key, "unsupported algorithm"),
        "rs256": (rs256, "unsupported algorithm"),
        "foreign-signature": (es256_signed_by_someone_else, "invalid signature"),
        "expired": (
            lambda k: sign(k, claims(1, iat=int(now) - 36_100, nbf=int(now) - 36_100, exp=int(now) - 60)),
            "token expired",
        ),
        "nbf-future": (lambda k: sign(k, claims(1, nbf=int(now) + 120)), "token not yet valid"),
        "iat-future": (lambda k: sign(k, claims(1, iat=int(now) + 120, nbf=...)), "token not yet valid"),
        "typ-jwt": (lambda k: sign(k, claims(1), typ="JWT"), "not an access token"),
        "typ-missing": (
            lambda k: unsigned({"alg": "ES256", "kid": k.kid}, claims(1), b"x" * 64),
            "not an access token",
        ),
        "kid-missing": (lambda k: unsigned({"alg": "ES256", "typ": "at+jwt"}, claims(1), b"x" * 64), "missing key id"),
        "wrong-audience": (lambda k: sign(k, claims(1, aud="billing")), "invalid claim: aud"),
        "wrong-issuer": (lambda k: sign(k, claims(1, iss=issuer(1, "http://evil.test"))), "untrusted issuer"),
        "non-canonical-issuer": (lambda k: sign(k, claims(1, iss=f"{BASE}/01/oauth2")), "untrusted issuer"),
        "issuer-tenant-mismatch": (lambda k: sign(k, claims(1, provet_id=2)), "issuer and provet_id disagree"),
        "provet-id-as-string": (lambda k: sign(k, claims(1, provet_id="1")), "issuer and provet_id disagree"),
        "exp-beyond-any-date": (lambda k: sign(k, claims(1, exp=10**20)), "malformed claims"),
        "permissions-not-a-list": (lambda k: sign(k, claims(1, permissions="consultations")), "malformed claims"),
        "crit-b64": (lambda k: sign(k, claims(1), b64=False, crit=["b64"]), "malformed token"),
        "crit": (lambda k: sign(k, claims(1), crit=["kid"]), "unsupported header"),
        "garbage": (lambda k: "not.a-token", "malformed token"),
        "deeply-nested-json": (lambda k: f"{b64url(b'[' * 3000)}.e30.e30", "malformed token"),
        "non-ascii": (lambda k: "é.e30.e30", "malformed token"),
        "oversized": (lambda k: sign(k, claims(1, permissions=["p" * 10] * 1000)), "malformed token"),
    }


@pytest.mark.parametrize("case", sorted(_refused_tokens()))
async def test_refused(case: str) -> None:
    key = new_key()
    make, reason = _refused_tokens()[case]
    async with JwksServer([key]).client() as http:
        with pytest.raises(InvalidToken) as refused:
            await verifier(http).verify(make(key), provet_id=1)
    assert refused.value.reason == reason
    assert "eyJ" not in str(refused.value), "never echo the token"


async def test_small_clock_skew_is_tolerated() -> None:
    key = new_key()
    now = int(time.time())
    async with JwksServer([key]).client() as http:
        skewed = sign(key, claims(1, iat=now + 10, nbf=now + 10, exp=now + 3600))
        assert (await verifier(http).verify(skewed, provet_id=1)).provet_id == 1
        just_expired = sign(key, claims(1, iat=now - 3600, nbf=now - 3600, exp=now - 10))
        assert (await verifier(http).verify(just_expired, provet_id=1)).provet_id == 1
        with pytest.raises(InvalidToken, match="token expired"):
            await verifier(http, leeway=0).verify(just_expired, provet_id=1)


async def test_token_of_tenant_a_is_refused_at_tenant_b() -> None:
    key = new_key()
    server = JwksServer([key])
    async with server.client() as http:
        check = verifier(http)
        token = sign(key, claims(1))
        with pytest.raises(InvalidToken, match="token is for another tenant"):
            await check.verify(token, provet_id=2)
        assert server.hits == [], "refused before any key is fetched"
        await check.verify(token, provet_id=1)
        with pytest.raises(InvalidToken, match="token is for another tenant"):
            await check.verify(token, provet_id=2)  # also once remembered as verified


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
async def test_missing_claim_is_refused(claim: str) -> None:
    key = new_key()
    payload = claims(1)
    del payload[claim]
    async with JwksServer([key]).client() as http:
        with pytest.raises(InvalidToken) as refused:
            await verifier(http).verify(sign(key, payload), provet_id=None if claim == "iss" else 1)
    expected = "untrusted issuer" if claim == "iss" else f"missing claim: {claim}"
    assert refused.value.reason == expected


async def test_remembered_token_still_expires() -> None:
    key = new_key()
    wall = Clock()
    async with JwksServer([key]).client() as http:
        check = verifier(http, clock=wall)
        token = sign(key, claims(1, now=wall.now, exp=int(wall.now) + 60))
        await check.verify(token, provet_id=1)
        wall.advance(60 + 31)
        with pytest.raises(InvalidToken, match="token expired"):
            await check.verify(token, provet_id=1)


async def test_remembered_header_and_issuer_still_need_a_valid_signature_and_tenant() -> None:
    """The verifier remembers accepted JOSE headers and trusted issuers; nothing else carries over."""
    key = new_key()
    async with JwksServer([key]).client() as http:
        check = verifier(http)
        await check.verify(sign(key, claims(1)), provet_id=1)
        forged = sign(new_key(), claims(1), kid=key.kid)  # the very same header segment, another signer
        assert forged.split(".")[0] == sign(key, claims(1)).split(".")[0]
        with pytest.raises(InvalidToken, match="invalid signature"):
            await check.verify(forged, provet_id=1)
        with pytest.raises(InvalidToken, match="token is for another tenant"):
            await check.verify(sign(key, claims(1)), provet_id=2)


def test_der_signature_matches_the_library_encoding() -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from vetgate_authz.verify import der_signature

    edges = [bytes(64), b"\x80" * 64, b"\x00" * 31 + b"\x01" + b"\xff" * 32, b"\x00\x80" + b"\x01" * 62]
    for raw in edges + [os.urandom(64) for _ in range(2000)]:
        expected = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        assert der_signature(raw) == expected, raw.hex()
