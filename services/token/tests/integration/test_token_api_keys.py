"""Legacy API keys in the token service: the policy, exceptions, introspection, revocation jobs, reminders."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from api_key_kit import (
    PRODUCTION_TENANT,
    SANDBOX_TENANT,
    Staff,
    create_key,
    days,
    introspect_key,
    register_staff,
    set_policy,
    staged_events,
)
from flows import publish
from sqlalchemy import select
from vetgate_devstack.infra import Infrastructure
from vetgate_messaging import testing
from vetgate_token.adapters.api_key_tables import api_keys
from vetgate_token.service_layer.key_retirement import KeyRetirement

from conftest import TokenService


@pytest.fixture
async def staff(token_service: TokenService, tmp_path: Path) -> Staff:
    return await register_staff(token_service, tmp_path)


def retirement(svc: TokenService) -> KeyRetirement:
    found: KeyRetirement = svc.host.components["api_key_retirement"]
    return found


async def test_a_key_authenticates_by_introspection_at_its_own_tenant_only(
    token_service: TokenService, staff: Staff
) -> None:
    created = await create_key(
        token_service, staff.production_admin, PRODUCTION_TENANT, integration="Acme", owner_email="dev@acme-vet.com"
    )
    key = created["key"]
    assert key.startswith("vgk_") and created["environment"] == "production" and not created["under_exception"]

    answer = await introspect_key(token_service, staff, key, PRODUCTION_TENANT)
    assert answer["active"] is True and answer["token_type"] == "api_key"
    assert answer["jti"] == created["id"] and answer["provet_id"] == PRODUCTION_TENANT and "exp" not in answer
    assert await introspect_key(token_service, staff, key, SANDBOX_TENANT) == {"active": False}
    assert await introspect_key(token_service, staff, key + "x", PRODUCTION_TENANT) == {"active": False}

    async with token_service.host.engine.connect() as conn:
        stored = (await conn.execute(select(api_keys).where(api_keys.c.id == created["id"]))).one()
    assert key not in repr(tuple(stored)) and stored.key_hash != key  # only a peppered digest is kept
    listed = (await token_service.http.get(f"/v1/tenants/{PRODUCTION_TENANT}/api-keys", headers=staff.support)).json()
    assert [k["id"] for k in listed["keys"]] == [created["id"]] and key not in str(listed)
    [event] = await staged_events(token_service, "ApiKeyCreated")
    assert event["api_key_id"] == created["id"] and key not in str(event)


async def test_every_use_counts_in_batches(token_service: TokenService, staff: Staff) -> None:
    created = await create_key(token_service, staff.support, SANDBOX_TENANT)
    for _ in range(3):
        await introspect_key(token_service, staff, created["key"], SANDBOX_TENANT)
    reported = await token_service.http.post(
        "/v1/api-keys/usage",
        json={"uses": [{"api_key_id": created["id"], "count": 40, "last_used_at": days(0).isoformat()}]},
        headers=staff.support,
    )
    assert reported.status_code == 202
    assert await token_service.host.components["oauth"].key_usage.flush() == 1
    [listed] = (await token_service.http.get(f"/v1/tenants/{SANDBOX_TENANT}/api-keys", headers=staff.support)).json()[
        "keys"
    ]
    assert listed["use_count"] == 43 and listed["last_used_at"] is not None


async def test_after_the_cutoff_creation_is_refused_unless_support_grants_an_exception(
    token_service: TokenService, staff: Staff
) -> None:
    await set_policy(token_service, staff, "production", creation_cutoff=days(-1), revocation_deadline=days(60))
    refused = await token_service.http.post(
        f"/v1/tenants/{PRODUCTION_TENANT}/api-keys", json={"name": "late"}, headers=staff.production_admin
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "api_key_creation_disabled" and "OAuth 2.0" in refused.json()["error_description"]
    # Sandbox has its own policy: no cut-off there yet.
    await create_key(token_service, staff.sandbox_admin, SANDBOX_TENANT)

    by_admin = await token_service.http.post(
        f"/v1/tenants/{PRODUCTION_TENANT}/api-key-exceptions",
        json={"reason": "partner needs two more weeks", "expires_at": days(14).isoformat()},
        headers=staff.production_admin,
    )
    assert by_admin.status_code == 403  # only support grants exceptions
    granted = await token_service.http.post(
        f"/v1/tenants/{PRODUCTION_TENANT}/api-key-exceptions",
        json={"reason": "partner needs two more weeks", "expires_at": days(14).isoformat()},
        headers=staff.support,
    )
    assert granted.status_code == 201 and granted.json()["granted_by"]
    created = await create_key(token_service, staff.production_admin, PRODUCTION_TENANT, name="late")
    assert created["under_exception"] is True

    # After the deadline no exception helps: the environment's keys are retired.
    await set_policy(token_service, staff, "production", creation_cutoff=days(-2), revocation_deadline=days(-1))
    after = await token_service.http.post(
        f"/v1/tenants/{PRODUCTION_TENANT}/api-keys", json={"name": "later"}, headers=staff.support
    )
    assert after.status_code == 403 and "retired" in after.json()["error_description"]


async def test_bad_requests_get_clear_errors(token_service: TokenService, staff: Staff) -> None:
    http = token_service.http
    anonymous = await http.post(f"/v1/tenants/{SANDBOX_TENANT}/api-keys", json={"name": "x"})
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    other_tenant = await http.post(
        f"/v1/tenants/{PRODUCTION_TENANT}/api-keys", json={"name": "x"}, headers=staff.sandbox_admin
    )
    assert other_tenant.status_code == 401 and other_tenant.json()["error"] == "invalid_token"
    bad = await http.post(
        f"/v1/tenants/{SANDBOX_TENANT}/api-keys", json={"name": " ", "owner_email": "nope"}, headers=staff.support
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"][-1:]) for e in bad.json()["detail"]} == {("name",), ("owner_email",)}
    policy = await http.put("/v1/api-key-policies/staging", json={}, headers=staff.support)
    assert policy.status_code == 422
    not_support = await http.put("/v1/api-key-policies/sandbox", json={}, headers=staff.sandbox_admin)
    assert not_support.status_code == 403 and not_support.json()["error"] == "insufficient_scope"
    past = await http.post(
        f"/v1/tenants/{SANDBOX_TENANT}/api-key-exceptions",
        json={"reason": "too late", "expires_at": days(-1).isoformat()},
        headers=staff.support,
    )
    assert past.status_code == 422


async def test_a_dry_run_lists_and_the_real_run_revokes_the_environment_once(
    token_service: TokenService, staff: Staff
) -> None:
    production = [
        await create_key(token_service, staff.support, PRODUCTION_TENANT, owner_email=f"o{i % 2}@acme-vet.com")
        for i in range(5)
    ]
    sandbox = await create_key(token_service, staff.support, SANDBOX_TENANT, owner_email="o0@acme-vet.com")

    dry = await token_service.http.post(
        "/v1/api-keys/revocations", json={"dry_run": True, "environment": "production"}, headers=staff.support
    )
    assert dry.status_code == 200 and dry.json()["count"] == 5
    assert {k["id"] for k in dry.json()["keys"]} == {k["id"] for k in production}
    for k in production:
        assert (await introspect_key(token_service, staff, k["key"], PRODUCTION_TENANT))["active"] is True
    assert await staged_events(token_service, "KeyRevoked") == []

    real = await token_service.http.post(
        "/v1/api-keys/revocations", json={"dry_run": False, "environment": "production"}, headers=staff.support
    )
    assert real.status_code == 202 and real.json()["count"] == 5
    await retirement(token_service).run_unfinished()
    job = (await token_service.http.get(real.headers["location"], headers=staff.support)).json()
    assert job["finished"] and job["revoked_count"] == 5
    for k in production:
        assert await introspect_key(token_service, staff, k["key"], PRODUCTION_TENANT) == {"active": False}
    assert (await introspect_key(token_service, staff, sandbox["key"], SANDBOX_TENANT))["active"] is True

    events = await staged_events(token_service, "KeyRevoked")
    assert sorted(e["api_key_id"] for e in events) == sorted(k["id"] for k in production)
    assert {e["revocation_batch_id"] for e in events} == {real.json()["job_id"]}

    # Sandbox keys go too when sandbox is targeted; nothing already revoked is revoked again.
    again = await token_service.http.post("/v1/api-keys/revocations", json={"dry_run": False}, headers=staff.support)
    assert again.json()["count"] == 1
    await retirement(token_service).run_unfinished()
    assert len(await staged_events(token_service, "KeyRevoked")) == 6


async def test_a_job_interrupted_midway_finishes_without_revoking_twice(
    token_service: TokenService, staff: Staff
) -> None:
    keys = [await create_key(token_service, staff.support, SANDBOX_TENANT) for _ in range(7)]
    first = KeyRetirement(token_service.host.engine, chunk=3)
    job_id = await first.start("sandbox", reason="test", actor="test")
    assert job_id is not None
    job = await first.job(job_id)
    async with token_service.host.engine.begin() as conn:  # one chunk, then the process "dies"
        assert await first._revoke_chunk(conn, _Row(job)) == 3

    revoked = await KeyRetirement(token_service.host.engine, chunk=3).run_unfinished()  # a restarted process
    assert revoked == 4
    events = await staged_events(token_service, "KeyRevoked")
    assert sorted(e["api_key_id"] for e in events) == sorted(k["id"] for k in keys)
    assert (await first.job(job_id) or {})["revoked_count"] == 7


class _Row:
    def __init__(self, mapping: dict | None) -> None:  # type: ignore[type-arg]
        assert mapping is not None
        self.__dict__.update(mapping)


async def test_the_deadline_fires_the_job_and_moving_it_changes_when(token_service: TokenService, staff: Staff) -> None:
    key = await create_key(token_service, staff.support, SANDBOX_TENANT, owner_email="dev@acme-vet.com")
    await set_policy(token_service, staff, "sandbox", creation_cutoff=days(-30), revocation_deadline=days(1))
    await retirement(token_service).tick()
    # Moved later before it came (as the real deadline moved from December to March): nothing fires.
    await set_policy(token_service, staff, "sandbox", creation_cutoff=days(-30), revocation_deadline=days(90))
    await retirement(token_service).tick()
    assert (await introspect_key(token_service, staff, key["key"], SANDBOX_TENANT))["active"] is True

    await set_policy(token_service, staff, "sandbox", creation_cutoff=days(-30), revocation_deadline=days(-0.001))
    await retirement(token_service).tick()
    assert await introspect_key(token_service, staff, key["key"], SANDBOX_TENANT) == {"active": False}
    [event] = await staged_events(token_service, "KeyRevoked")
    assert "revocation deadline" in event["reason"] and event["environment"] == "sandbox"
    await retirement(token_service).tick()  # the deadline's job exists: nothing more happens
    assert len(await staged_events(token_service, "KeyRevoked")) == 1


async def test_owners_are_reminded_once_per_reminder_point(token_service: TokenService, staff: Staff) -> None:
    with_owner = await create_key(token_service, staff.support, PRODUCTION_TENANT, owner_email="dev@acme-vet.com")
    await create_key(token_service, staff.support, PRODUCTION_TENANT)  # nobody to remind
    await set_policy(token_service, staff, "production", revocation_deadline=days(5), reminder_days=[30, 7, 1])
    await retirement(token_service).tick()
    await retirement(token_service).tick()
    [reminder] = await staged_events(token_service, "KeyRevocationReminder")
    assert reminder["api_key_id"] == with_owner["id"] and reminder["owner_email"] == "dev@acme-vet.com"
    assert reminder["revocation_deadline"].startswith(days(5).date().isoformat())

    await set_policy(token_service, staff, "production", revocation_deadline=days(0.5), reminder_days=[30, 7, 1])
    await retirement(token_service).tick()  # a new deadline: its nearest point (1 day) is due
    assert len(await staged_events(token_service, "KeyRevocationReminder")) == 2


async def test_the_migration_report_shows_who_has_not_moved(
    infra: Infrastructure, token_service: TokenService, staff: Staff
) -> None:
    for owner in ("a@acme-vet.com", "b@acme-vet.com"):
        await create_key(token_service, staff.support, PRODUCTION_TENANT, integration="Acme Sync", owner_email=owner)
    await create_key(token_service, staff.support, SANDBOX_TENANT, integration="Old Tool")
    await create_key(token_service, staff.support, SANDBOX_TENANT, integration="Acme Sync")
    # Acme Sync is installed with OAuth on the sandbox tenant (the registry learns it from provisioning).
    installed, _ = testing.client_provisioned(SANDBOX_TENANT, name="Acme Sync")
    await publish(infra.kafka_bootstrap, installed)
    oauth = token_service.host.components["oauth"]
    for _ in range(100):
        if await oauth.store.get(installed.client_id) is not None:
            break
        await asyncio.sleep(0.1)

    r = await token_service.http.get("/v1/api-keys/migration-report", headers=staff.support)
    assert r.status_code == 200
    rows = {(row["provet_id"], row["integration"]): row for row in r.json()["rows"]}
    acme = rows[(PRODUCTION_TENANT, "Acme Sync")]
    assert acme["active_keys"] == 2 and acme["owners"] == ["a@acme-vet.com", "b@acme-vet.com"]
    assert acme["migrated"] is False and rows[(SANDBOX_TENANT, "Acme Sync")]["migrated"] is True
    sandbox_only = await token_service.http.get(
        "/v1/api-keys/migration-report", params={"environment": "sandbox"}, headers=staff.support
    )
    assert {row["integration"] for row in sandbox_only.json()["rows"]} == {"Old Tool", "Acme Sync"}
