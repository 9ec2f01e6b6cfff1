"""The authenticated caller, as every resource-server handler sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TokenType = Literal["bearer", "api_key"]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A verified access token (RFC 9068 JWT) or a legacy API key vouched for by introspection (RFC 7662).

    For API keys the authorization server may omit ``jti``/``iat``/``exp`` (keys live until revoked), so
    those are ``None`` there; for bearer tokens they are always set.
    """

    subject: str
    client_id: str
    provet_id: int
    scopes: frozenset[str]
    permissions: frozenset[str]
    roles: frozenset[str]
    jti: str | None
    issued_at: datetime | None
    expires_at: datetime | None
    token_type: TokenType = "bearer"
