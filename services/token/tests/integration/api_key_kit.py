"""Support and tenant-admin callers for the API-key admin API, registered as the dev stack's seed does."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows import basic
from sqlalchemy import select
from vetgate_messaging.tables import outbox
from vetgate_token.adapters.seed import register_seed

from conftest import TokenService

SUPPORT_TENANT, SANDBOX_TENANT, PRODUCTION_TENANT = 1, 1001, 2001


@dataclass
class Staff:
    support: dict[str, str]
    sandbox_admin: dict[str, str]
    production_admin: dict[str, str]


async def register_staff(svc: TokenService, directory: Path) -> Staff:
    """A support client (tenant 1), an admin of sandbox tenant 1001 and of production tenant 2001."""
    identities = {name: (f"{name}-{secrets.token_hex(4)}", secrets.token_urlsafe(32)) for name in ("s", "a", "p")}
    seed = {
        "support": {"client_id": identities["s"][0], "client_secret": identities["s"][1], "provet_id": SUPPORT_TENANT},
        "tenants": [{"provet_id": SANDBOX_TENANT, "admin": _entry(identities["a"]), "users": []}],
    }
    path = directory / "seed.json"
    path.write_text(json.dumps(seed))
    oauth = svc.host.components["oauth"]
    await register_seed(path, oauth.store, oauth.people, oauth.engine, svc.settings.pepper_bytes())
    # The production tenant's admin: registered like a seed tenant, then moved back to production.
    seed["tenants"] = [{"provet_id": PRODUCTION_TENANT, "admin": _entry(identities["p"]), "users": []}]
    path.write_text(json.dumps(seed))
    await register_seed(path, oauth.store, oauth.people, oauth.engine, svc.settings.pepper_bytes())
    staff = Staff(
        support=await _bearer(svc, SUPPORT_TENANT, *identities["s"]),
        sandbox_admin=await _bearer(svc, SANDBOX_TENANT, *identities["a"]),
        production_admin=await _bearer(svc, PRODUCTION_TENANT, *identities["p"]),
    )
    moved = await svc.http.put(
        f"/v1/tenants/{PRODUCTION_TENANT}/environment", json={"environment": "production"}, headers=staff.support
    )
    assert moved.status_code == 200, moved.text
    return staff


def _entry(identity: tuple[str, str]) -> dict[str, str]:
    return {"client_id": identity[0], "client_secret": identity[1]}


async def _bearer(svc: TokenService, provet_id: int, client_id: str, secret: str) -> dict[str, str]:
    r = await svc.http.post(
        f"/{provet_id}/oauth2/token/", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def create_key(
    svc: TokenService, headers: dict[str, str], provet_id: int, name: str = "Lab sync", **extra: Any
) -> dict[str, Any]:
    r = await svc.http.post(f"/v1/tenants/{provet_id}/api-keys", json={"name": name, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def set_policy(svc: TokenService, staff: Staff, environment: str, **policy: Any) -> dict[str, Any]:
    body = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in policy.items()}
    r = await svc.http.put(f"/v1/api-key-policies/{environment}", json=body, headers=staff.support)
    assert r.status_code == 200, r.text
    return dict(r.json())


def days(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=n)


async def introspect_key(svc: TokenService, staff: Staff, key: str, provet_id: int) -> dict[str, Any]:
    r = await svc.http.post(f"/{provet_id}/oauth2/introspect/", data={"token": key}, headers=staff.support)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def staged_events(svc: TokenService, event_type: str) -> list[dict[str, Any]]:
    """The payloads of ``event_type`` in the service's outbox (what the relay publishes)."""
    async with svc.host.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.event_id, outbox.c.payload).where(outbox.c.event_type == f"vetgate.{event_type}.v1")
        )
        return [{"event_id": str(r.event_id), **_json(r.payload)} for r in rows]


def _json(payload: Any) -> dict[str, Any]:
    return dict(json.loads(payload) if isinstance(payload, (str, bytes)) else payload)
