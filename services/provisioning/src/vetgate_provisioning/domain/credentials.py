"""Client credentials as the platform mints them: who gets a secret, who gets a virtual user."""

from __future__ import annotations

import secrets

from vetgate_events.common import ClientType, GrantType

# The prefix tells a support engineer at a glance whether a client acts as a virtual user ("int")
# or as the person logged in ("app").
_CLIENT_ID_PREFIX: dict[GrantType, str] = {"client_credentials": "int", "authorization_code": "app"}


def new_client_id(grant_type: GrantType) -> str:
    return f"{_CLIENT_ID_PREFIX[grant_type]}-{secrets.token_hex(12)}"


def new_client_secret() -> str:
    """256 random bits: a fast keyed hash is then the right way to store it (ARCHITECTURE.md)."""
    return secrets.token_urlsafe(32)


def has_secret(client_type: ClientType) -> bool:
    """RFC 6749 §2.1: a public client cannot keep a secret, so it gets none."""
    return client_type == "confidential"


def has_virtual_user(grant_type: GrantType) -> bool:
    """With authorization_code the integration acts as the logged-in person, with that person's rights."""
    return grant_type == "client_credentials"
