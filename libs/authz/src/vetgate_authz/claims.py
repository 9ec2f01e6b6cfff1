"""Reading a JWT's parts and mapping its claims (ADR 0006) to :class:`AccessToken`."""

from __future__ import annotations

import binascii
from datetime import UTC, datetime
from typing import Any

import orjson

from vetgate_authz.errors import InvalidToken
from vetgate_authz.model import AccessToken

MAX_TOKEN_LENGTH = 8192
"""Our tokens are well under 2 KiB; anything much larger is refused before any decoding."""

REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "provet_id")


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims *before* the signature is checked: only used to choose the key, never trusted."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 3:  # RFC 7515 §7.1: three parts
        raise InvalidToken("malformed token")
    try:
        header = orjson.loads(b64url(parts[0]))  # orjson: a third of json's time; refuses NaN and deep nesting
        claims = orjson.loads(b64url(parts[1]))
    except (ValueError, RecursionError) as exc:  # binascii.Error, JSONDecodeError and UnicodeError are ValueErrors
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    return header, claims


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def b64url(segment: str) -> bytes:
    """Base64url without padding (RFC 7515 §2), as ``base64.urlsafe_b64decode`` does it but without its
    layers (this runs three times per token); raises ValueError on bad input."""
    raw = segment.encode("ascii")  # UnicodeEncodeError is a ValueError
    return binascii.a2b_base64(raw.translate(_URLSAFE) + b"=" * (-len(raw) % 4))


def tenant_of_issuer(issuer: str, bases: tuple[str, ...]) -> int | None:
    """The provet_id of issuer ``<base>/<provet_id>/oauth2`` for a trusted base (canonical form only), else None."""
    for base in bases:
        rest = issuer.removeprefix(base + "/")
        if rest == issuer or not rest.endswith("/oauth2"):
            continue
        digits = rest.removesuffix("/oauth2")
        if digits.isascii() and digits.isdigit() and issuer == f"{base}/{int(digits)}/oauth2" and int(digits) > 0:
            return int(digits)
    return None


def to_access_token(claims: dict[str, Any]) -> AccessToken:
    """Map verified, validated claims; a claim of the wrong type makes the token invalid."""
    client_id, provet_id = claims["client_id"], claims["provet_id"]
    scope = claims.get("scope", "")  # RFC 9068 §2.2.3 / RFC 8693 §4.2: space-separated
    if not isinstance(client_id, str) or type(provet_id) is not int or not isinstance(scope, str):
        raise InvalidToken("malformed claims")
    try:
        issued_at = datetime.fromtimestamp(claims["iat"], UTC)
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidToken("malformed claims") from exc
    return AccessToken(
        subject=claims["sub"],  # iss/sub/jti/aud types were checked by TokenVerifier._validate
        client_id=client_id,
        provet_id=provet_id,
        scopes=frozenset(scope.split()),
        permissions=string_set(claims.get("permissions")),
        roles=string_set(claims.get("roles")),
        jti=claims["jti"],
        issued_at=issued_at,
        expires_at=expires_at,
        token_type="bearer",
    )


def string_set(value: object) -> frozenset[str]:
    """A JSON list of strings (absent = empty) as a set; anything else makes the token invalid."""
    if value is None:
        return frozenset()
    if type(value) is not list:
        raise InvalidToken("malformed claims")
    try:
        items = frozenset(value)
    except TypeError as exc:  # unhashable members: lists, objects
        raise InvalidToken("malformed claims") from exc
    if not set(map(type, items)) <= {str}:  # the fast form of all(isinstance(...)): JSON has no str subclasses
        raise InvalidToken("malformed claims")
    return items
