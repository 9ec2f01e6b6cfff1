"""First-party identities of the dev stack (dev-credentials.json): the support and tenant admin clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_platform.secrets import peppered, secret_digest

from vetgate_token.adapters.client_store import ClientStore
from vetgate_token.domain.clients import RegisteredClient

ADMIN_PERMISSIONS = ("patients-clients", "consultations", "clinical-notes", "reminder", "delete-clients")


async def register_seed(path: Path, store: ClientStore, engine: AsyncEngine, pepper: bytes) -> int:
    """Upsert the seeded clients (idempotent: a restart changes nothing); returns how many."""
    seed: dict[str, Any] = json.loads(path.read_text())
    entries = [(seed["support"], int(seed["support"]["provet_id"]), ("support",))]
    entries += [(t["admin"], int(t["provet_id"]), ("admin",)) for t in seed.get("tenants", [])]
    async with engine.begin() as conn:
        for entry, provet_id, roles in entries:
            client = RegisteredClient(
                client_id=entry["client_id"],
                provet_id=provet_id,
                name=f"{roles[0]} ({provet_id})",
                client_type="confidential",
                grant_types=("client_credentials",),
                redirect_uris=(),
                subject=entry["client_id"],
                permissions=ADMIN_PERMISSIONS,
                roles=roles,
                active=True,
            )
            await store.upsert(conn, client, activation_id=None)
            digest = peppered(pepper, secret_digest(entry["client_secret"]))
            await store.replace_secret(conn, client.client_id, digest, previous_valid_until=None)
    return len(entries)
