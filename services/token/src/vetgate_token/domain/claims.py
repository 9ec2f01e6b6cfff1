"""The claims of an access token (docs/decisions/0006-access-token-format.md, RFC 9068 §2.2)."""

from __future__ import annotations

import uuid
from typing import Any

AUDIENCE = "vetgate"


def issuer(base_url: str, provet_id: int) -> str:
    """One issuer per tenant: ``<base>/<provet_id>/oauth2``."""
    return f"{base_url.rstrip('/')}/{provet_id}/oauth2"


def access_token_claims(
    *,
    base_url: str,
    provet_id: int,
    subject: str,
    client_id: str,
    scope: str,
    permissions: tuple[str, ...],
    roles: tuple[str, ...],
    issued_at: int,
    not_before: int,
    lifetime: int,
) -> dict[str, Any]:
    """``issued_at`` may run ahead of the clock by under a second (see ``tokens_issued_from``);
    ``not_before`` is the real time of issue, so the token is usable at once."""
    return {
        "iss": issuer(base_url, provet_id),
        "aud": AUDIENCE,
        "sub": subject,
        "client_id": client_id,
        "provet_id": provet_id,
        "scope": scope,
        "permissions": list(permissions),
        "roles": list(roles),
        "jti": str(uuid.uuid4()),
        "iat": issued_at,
        "nbf": not_before,
        "exp": not_before + lifetime,
    }


def id_token_claims(
    *,
    base_url: str,
    provet_id: int,
    subject: str,
    client_id: str,
    auth_time: int,
    nonce: str | None,
    issued_at: int,
    lifetime: int,
) -> dict[str, Any]:
    """OpenID Connect Core §2: the ID token is for the client (aud = client_id), not for APIs."""
    claims: dict[str, Any] = {
        "iss": issuer(base_url, provet_id),
        "sub": subject,
        "aud": client_id,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "auth_time": auth_time,
    }
    if nonce:
        claims["nonce"] = nonce  # OIDC Core §3.1.3.6: echoed so the client can detect a replay
    return claims
