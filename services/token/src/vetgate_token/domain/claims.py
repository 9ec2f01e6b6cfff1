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
