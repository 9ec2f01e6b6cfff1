"""First-party identities of the dev stack (dev-credentials.json): the support and tenant admin clients,
and each sandbox tenant's people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_platform.secrets import peppered, secret_digest

from vetgate_token.adapters.client_store import ClientStore
from vetgate_token.adapters.people_store import PeopleStore
from vetgate_token.domain.clients import RegisteredClient
from vetgate_token.domain.grants import Person, person_id_for
from vetgate_token.service_layer.api_keys import set_environment

ADMIN_PERMISSIONS = ("patients-clients", "consultations", "clinical-notes", "reminder", "delete-clients")
# The built-in "Users" group's rights (provet-reference.md): seeded people get these.
USERS_PERMISSIONS = ADMIN_PERMISSIONS


async def register_seed(
    path: Path, store: ClientStore, people: PeopleStore, engine: AsyncEngine, pepper: bytes
) -> tuple[int, int]:
    """Upsert the seeded clients and people (idempotent: a restart changes nothing); returns how many."""
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
        for tenant in seed.get("tenants", []):  # the dev stack's tenants are sandboxes (the contract)
            await set_environment(conn, int(tenant["provet_id"]), "sandbox")
        persons = await _register_people(conn, people, seed.get("tenants", []))
    return len(entries), persons


async def _register_people(conn: AsyncConnection, people: PeopleStore, tenants: list[dict[str, Any]]) -> int:
    count = 0
    for tenant in tenants:
        provet_id = int(tenant["provet_id"])
        for user in tenant.get("users", []):
            person = Person(
                person_id=person_id_for(provet_id, user["username"]),  # stable across restarts
                provet_id=provet_id,
                username=user["username"],
                permissions=USERS_PERMISSIONS,
                active=True,
            )
            await people.upsert(conn, person, user["password"])
            count += 1
    return count
