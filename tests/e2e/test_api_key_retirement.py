"""Issue 6 through the running stack: legacy API keys live until the policy retires them.

A key created before the cut-off works at a resource server (catalogue); after the cut-off creation is
refused unless support grants an exception; a dry run changes nothing; moving the deadline changes when
the job fires; the deadline revokes every key of that environment only, each is refused afterwards,
KeyRevoked is on the topic, and every owner gets one notice — reminders before it, one per owner.
"""

from __future__ import annotations

import asyncio
import email
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from stack_helpers import RunningStack
from vetgate_devstack.token_server import client_credentials_token
from vetgate_events.token import KeyRevoked
from vetgate_events.topics import TOKEN_API_KEYS
from vetgate_messaging.testing import read_topic

SANDBOX_TENANT, OTHER_SANDBOX_TENANT, PRODUCTION_TENANT = 1001, 1002, 3001


def _at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


class Support:
    """The stack's support client, and the tenant admins, calling the token service's key API."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.http = httpx.AsyncClient(base_url=stack.urls["token"], timeout=30)

    async def headers(self, who: str = "support") -> dict[str, str]:
        client = self.stack.credentials["support"] if who == "support" else self._admin(int(who))
        return {"Authorization": f"Bearer {await client_credentials_token(client)}"}

    def _admin(self, provet_id: int) -> dict[str, Any]:
        return next(t["admin"] for t in self.stack.credentials["tenants"] if t["provet_id"] == provet_id)

    async def create_key(self, provet_id: int, who: str = "support", **body: Any) -> httpx.Response:
        body.setdefault("name", "Lab sync")
        return await self.http.post(f"/v1/tenants/{provet_id}/api-keys", json=body, headers=await self.headers(who))

    async def policy(self, environment: str, **policy: Any) -> None:
        r = await self.http.put(f"/v1/api-key-policies/{environment}", json=policy, headers=await self.headers())
        assert r.status_code == 200, r.text

    async def introspect(self, key: str, provet_id: int) -> dict[str, Any]:
        r = await self.http.post(f"/{provet_id}/oauth2/introspect/", data={"token": key}, headers=await self.headers())
        return dict(r.json())


@pytest.fixture
async def support(stack: RunningStack) -> Any:
    client = Support(stack)
    yield client
    for environment in ("production", "sandbox"):  # later tests find no policy in force
        await client.policy(environment)
    await client.http.aclose()


async def catalogue_status(stack: RunningStack, key: str, provet_id: int) -> int:
    """A legacy key at a resource server: the catalogue accepts it like a bearer token, until revoked."""
    async with httpx.AsyncClient(base_url=stack.urls["catalogue"]) as http:
        r = await http.get(f"/v1/tenants/{provet_id}/catalogue", headers={"Authorization": f"Token {key}"})
        return r.status_code


def mails_to(stack: RunningStack, address: str, subject_has: str) -> list[Message]:
    found = []
    for path in Path(stack.credentials["mailbox_dir"]).glob("*.eml"):
        mail = email.message_from_bytes(path.read_bytes())
        if address in str(mail["To"]) and subject_has.lower() in str(mail["Subject"]).lower():
            found.append(mail)
    return found


def text_of(mail: Message) -> str:
    parts = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
    return str(parts[0].get_payload(decode=True).decode())  # type: ignore[union-attr]


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out: {what}")


async def test_keys_live_until_the_sandbox_deadline_and_owners_get_one_notice(
    stack: RunningStack, support: Support
) -> None:
    made = {}
    for label, tenant, owner in (
        ("k1", SANDBOX_TENANT, "owner1@lab-sync.com"),
        ("k2", SANDBOX_TENANT, "owner2@lab-sync.com"),
        ("k3", OTHER_SANDBOX_TENANT, "owner1@lab-sync.com"),
    ):
        r = await support.create_key(tenant, who=str(tenant), integration="Lab Sync", owner_email=owner)
        assert r.status_code == 201, r.text
        made[label] = r.json()
    production = (await support.create_key(PRODUCTION_TENANT, owner_email="owner1@lab-sync.com")).json()
    assert made["k1"]["environment"] == "sandbox" and production["environment"] == "production"

    assert await catalogue_status(stack, made["k1"]["key"], SANDBOX_TENANT) == 200
    assert await catalogue_status(stack, made["k1"]["key"], OTHER_SANDBOX_TENANT) == 401  # another tenant's key
    assert (await support.introspect(made["k1"]["key"], SANDBOX_TENANT))["token_type"] == "api_key"

    # The cut-off: tenant admins can no longer create keys, until support grants an exception.
    await support.policy("sandbox", creation_cutoff=_at(-1), revocation_deadline=_at(30), reminder_days=[1])
    refused = await support.create_key(SANDBOX_TENANT, who=str(SANDBOX_TENANT), owner_email="owner2@lab-sync.com")
    assert refused.status_code == 403 and refused.json()["error"] == "api_key_creation_disabled"
    granted = await support.http.post(
        f"/v1/tenants/{SANDBOX_TENANT}/api-key-exceptions",
        json={"reason": "Lab Sync ships OAuth next week", "expires_at": _at(7)},
        headers=await support.headers(),
    )
    assert granted.status_code == 201, granted.text
    late = await support.create_key(SANDBOX_TENANT, who=str(SANDBOX_TENANT), owner_email="owner2@lab-sync.com")
    assert late.status_code == 201 and late.json()["under_exception"] is True
    made["k4"] = late.json()
    sandbox_ids = {k["id"] for k in made.values()}

    # The dry run lists every sandbox key and changes nothing.
    dry = await support.http.post(
        "/v1/api-keys/revocations", json={"dry_run": True, "environment": "sandbox"}, headers=await support.headers()
    )
    assert dry.status_code == 200 and {k["id"] for k in dry.json()["keys"]} == sandbox_ids
    assert await catalogue_status(stack, made["k1"]["key"], SANDBOX_TENANT) == 200

    # The migration report, as support reads it from the command line.
    report = _cli(stack, "api-keys", "report", "--json", "--environment", "sandbox")
    rows = {(r["provet_id"], r["integration"]): r for r in json.loads(report)}
    assert rows[(SANDBOX_TENANT, "Lab Sync")]["active_keys"] == 2 and rows[(SANDBOX_TENANT, None)]["active_keys"] == 1

    # The deadline moves later (as the real one did): the job does not fire.
    await support.policy("sandbox", creation_cutoff=_at(-1), revocation_deadline=_at(90), reminder_days=[1])
    await asyncio.sleep(2)
    assert await catalogue_status(stack, made["k1"]["key"], SANDBOX_TENANT) == 200

    # The deadline arrives: every sandbox key goes, the production key stays.
    await support.policy("sandbox", creation_cutoff=_at(-1), revocation_deadline=_at(-0.00001), reminder_days=[1])
    for k in made.values():

        async def refused_at_catalogue(key: str = k["key"], tenant: int = k["provet_id"]) -> bool:
            return await catalogue_status(stack, key, tenant) == 401

        await eventually(refused_at_catalogue, f"key {k['id']} refused by the catalogue")
        assert await support.introspect(k["key"], k["provet_id"]) == {"active": False}
    assert await catalogue_status(stack, production["key"], PRODUCTION_TENANT) == 200

    revoked = {
        json.loads(r.value)["api_key_id"]
        for r in await read_topic(stack.kafka, TOKEN_API_KEYS)
        if dict(r.headers).get("ce_type") == KeyRevoked.event_type().encode()
    }
    assert sandbox_ids <= revoked and production["id"] not in revoked

    # One notice per owner, listing all of that owner's keys.
    async def two_notices() -> bool:
        return len(mails_to(stack, "owner1@", "revoked")) + len(mails_to(stack, "owner2@", "revoked")) >= 2

    await eventually(two_notices, "revocation notices")
    await asyncio.sleep(2)  # nothing more arrives
    [first] = mails_to(stack, "owner1@lab-sync.com", "revoked")
    [second] = mails_to(stack, "owner2@lab-sync.com", "revoked")
    assert str(SANDBOX_TENANT) in text_of(first) and str(OTHER_SANDBOX_TENANT) in text_of(first)
    assert str(OTHER_SANDBOX_TENANT) not in text_of(second)
    logs = stack.logs()
    assert not [k for k in [*made.values(), production] if k["key"] in logs], "an API key appeared in a log"


async def test_owners_are_reminded_before_the_deadline_and_support_revokes_on_demand(
    stack: RunningStack, support: Support
) -> None:
    key = (await support.create_key(PRODUCTION_TENANT, integration="Old Billing", owner_email="billing@old.com")).json()
    await support.policy("production", revocation_deadline=_at(3), reminder_days=[14, 7])

    async def reminded() -> bool:
        return len(mails_to(stack, "billing@old.com", "")) >= 1

    await eventually(reminded, "a reminder mail")
    [mail] = mails_to(stack, "billing@old.com", "")
    assert "Old Billing" in text_of(mail) and str(PRODUCTION_TENANT) in text_of(mail)

    output = _cli(stack, "api-keys", "revoke", "--environment", "production", "--execute")
    assert "revoked" in output
    assert await catalogue_status(stack, key["key"], PRODUCTION_TENANT) == 401


def _cli(stack: RunningStack, *args: str) -> str:
    """``vetgate <args>`` as support runs it, credentials in the environment (not on the command line)."""
    support = stack.credentials["support"]
    env = {
        "COLUMNS": "200",
        "PATH": "/usr/bin:/bin",
        "VETGATE_SUPPORT_TOKEN_URL": support["token_url"],
        "VETGATE_SUPPORT_CLIENT_ID": support["client_id"],
        "VETGATE_SUPPORT_CLIENT_SECRET": support["client_secret"],
    }
    done = subprocess.run(
        [sys.executable, "-m", "vetgate_devstack.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout
