"""The hook-up payload (provet-reference.md: ten fields, always all present) and its webhook id."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from vetgate_events.token import CredentialsIssued

FIELDS = (
    "provet_id",
    "client_id",
    "client_secret",
    "algorithm",
    "authorization_grant_type",
    "client_type",
    "redirect_uris",
    "token_url",
    "authorize_url",
    "openid_autodiscovery_url",
)


def hookup_payload(issued: CredentialsIssued, client_secret: str | None) -> dict[str, Any]:
    return {
        "provet_id": issued.provet_id,
        "client_id": issued.client_id,
        "client_secret": client_secret,
        "algorithm": issued.id_token_algorithm,
        "authorization_grant_type": issued.grant_type,
        "client_type": issued.client_type,
        "redirect_uris": " ".join(issued.redirect_uris),
        "token_url": issued.token_url,
        "authorize_url": issued.authorize_url,
        "openid_autodiscovery_url": issued.openid_autodiscovery_url,
    }


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """Compact, key-ordered JSON: the same credentials give the same body on every attempt."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_id(delivery_id: UUID) -> str:
    """Standard Webhooks ``webhook-id``: one per credential delivery, so identical across retries,
    redeliveries and topic replays — receivers dedupe on it."""
    return f"msg_{delivery_id.hex}"
