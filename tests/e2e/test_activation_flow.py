"""Issue 4 through the running stack: template → installation → virtual user and credentials → signed hook
→ a token at once; go-live to three tenants; removal; a full replay of the activations topic."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from replay_helpers import database_fingerprint, republish, wait_until_caught_up
from stack_helpers import RunningStack
from standardwebhooks import Webhook
from vetgate_devstack.token_server import client_credentials_token
from vetgate_events.topics import CATALOGUE_ACTIVATIONS, CONSUMER_GROUPS, PROVISIONING_CLIENTS, TOKEN_CREDENTIALS
from vetgate_messaging.testing import read_topic as all_records
from vetgate_notifier.testing import HookReceiver, Received

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "schemas" / "hookup-payload.schema.json").read_text())


@pytest.fixture(scope="module")
async def hooks() -> AsyncIterator[HookReceiver]:
    """The integration owner's real HTTP endpoint, on loopback (each test posts to its own path)."""
    async with HookReceiver().running() as receiver:
        yield receiver


async def bearer(stack: RunningStack, client: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await client_credentials_token(client)}"}


async def create_template(stack: RunningStack, hooks: HookReceiver, path: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"Lab Sync {uuid.uuid4().hex[:6]}",
        "description": "Lab results into consultations",
        "owner": {"name": "Ada Lab", "email": "ada@lab.example"},
        "grant_type": "client_credentials",
        "client_type": "confidential",
        "delivery": {"kind": "hook_url", "url": f"{hooks.origin}{path}"},
        "permissions": ["consultations", "laboratory"],
        "sandbox_tenants": [1001],
        "setup_instructions": "Paste the credentials into Lab Sync.",
    } | overrides
    async with httpx.AsyncClient(base_url=stack.urls["catalogue"]) as http:
        response = await http.post(
            "/v1/templates", json=body, headers=await bearer(stack, stack.credentials["support"])
        )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def verified_payload(hook: Received, whsec: str) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(whsec).verify(hook.body, hook.headers)  # raises unless the signature holds
    jsonschema.validate(payload, SCHEMA)
    return payload


async def token_for(payload: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            payload["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(payload["client_id"], payload["client_secret"]),
        )


async def test_installing_a_template_delivers_signed_credentials_that_work_at_once(
    stack: RunningStack, hooks: HookReceiver
) -> None:
    template = await create_template(stack, hooks, "/first")
    admin = stack.credentials["tenants"][0]["admin"]
    async with httpx.AsyncClient(base_url=stack.urls["catalogue"]) as catalogue:
        added = await catalogue.post(
            "/v1/tenants/1001/applications", json={"template_id": template["id"]}, headers=await bearer(stack, admin)
        )
        assert added.status_code == 202, added.text

        [hook] = await hooks.wait_for("/first")
        payload = verified_payload(hook, template["webhook_secret"])
        assert payload["provet_id"] == 1001
        assert payload["authorization_grant_type"] == "client_credentials"
        assert payload["token_url"] == f"{stack.urls['token']}/1001/oauth2/token/"
        token = await token_for(payload)  # the moment the credentials arrive
        assert token.status_code == 200, token.text

        status = await _eventually_status(catalogue, stack, admin, added.json()["id"], "active")
        assert status["provet_id"] == 1001

    async with httpx.AsyncClient(base_url=stack.urls["provisioning"]) as provisioning:
        users = (await provisioning.get("/v1/tenants/1001/virtual-users", headers=await bearer(stack, admin))).json()
    mine = [u for u in _items(users) if u.get("client_id") == payload["client_id"]]
    assert len(mine) == 1 and mine[0]["name"] == f"Integration {template['name']}"


async def test_go_live_to_three_tenants_delivers_three_distinct_credential_sets_and_removal_stops_them(
    stack: RunningStack, hooks: HookReceiver
) -> None:
    template = await create_template(stack, hooks, "/live", sandbox_tenants=[])
    support = await bearer(stack, stack.credentials["support"])
    async with httpx.AsyncClient(base_url=stack.urls["catalogue"]) as catalogue:
        live = await catalogue.post(
            f"/v1/templates/{template['id']}/publish", json={"tenants": [1001, 1002, 1003]}, headers=support
        )
        assert live.status_code == 200, live.text
        activations = {a["provet_id"]: a["id"] for a in live.json()["activations"]}

        hooks_received = await hooks.wait_for("/live", 3)
        payloads = [verified_payload(h, template["webhook_secret"]) for h in hooks_received]
        assert sorted(p["provet_id"] for p in payloads) == [1001, 1002, 1003]
        assert len({p["client_id"] for p in payloads}) == 3 and len({p["client_secret"] for p in payloads}) == 3
        assert len({h.headers["webhook-id"] for h in hooks_received}) == 3
        tokens = {p["provet_id"]: await token_for(p) for p in payloads}
        assert all(t.status_code == 200 for t in tokens.values())

        # Tenant 1002 removes the application: its credentials and tokens stop working, the others' do not.
        removed = await catalogue.delete(f"/v1/tenants/1002/applications/{activations[1002]}", headers=support)
        assert removed.status_code == 202
    payload_1002 = next(p for p in payloads if p["provet_id"] == 1002)
    access_token = tokens[1002].json()["access_token"]
    await _eventually(lambda: _refused(payload_1002), "the removed client's credentials are refused")
    await _eventually(lambda: _inactive(stack, payload_1002, access_token), "its token is no longer active")
    other = next(p for p in payloads if p["provet_id"] == 1003)
    assert (await token_for(other)).status_code == 200


async def test_replaying_the_activations_topic_creates_no_second_virtual_user_or_secret(
    stack: RunningStack, hooks: HookReceiver
) -> None:
    template = await create_template(stack, hooks, "/replay", sandbox_tenants=[1003])
    admin = stack.credentials["tenants"][2]["admin"]
    async with httpx.AsyncClient(base_url=stack.urls["catalogue"]) as catalogue:
        await catalogue.post(
            "/v1/tenants/1003/applications", json={"template_id": template["id"]}, headers=await bearer(stack, admin)
        )
    await hooks.wait_for("/replay")
    for group, topic in (("provisioning", CATALOGUE_ACTIVATIONS), ("token", PROVISIONING_CLIENTS)):
        await wait_until_caught_up(stack.kafka, group, topic)
    before = await _footprint(stack, hooks)

    activations = await all_records(stack.kafka, CATALOGUE_ACTIVATIONS)
    await republish(stack.kafka, activations, reprocess_job=None)  # a plain replay: same ce_ids
    await republish(stack.kafka, activations, reprocess_job=f"e2e-{uuid.uuid4().hex[:8]}")  # handlers run again
    await wait_until_caught_up(stack.kafka, "provisioning", CATALOGUE_ACTIVATIONS)
    await wait_until_caught_up(stack.kafka, "token", PROVISIONING_CLIENTS)
    await wait_until_caught_up(stack.kafka, "notifier", TOKEN_CREDENTIALS)

    assert await _footprint(stack, hooks) == before


async def test_a_full_replay_of_every_topic_changes_no_row_and_sends_nothing(
    stack: RunningStack, hooks: HookReceiver
) -> None:
    """Every topic copied from the beginning (same ce_ids) through every consumer: nothing happens."""
    for group, topics in CONSUMER_GROUPS.items():
        for topic in topics:
            await wait_until_caught_up(stack.kafka, group, topic)
    await asyncio.sleep(1)  # let the notifier's dispatcher finish what it was doing (no retries are due)
    rows_before = await database_fingerprint(stack.credentials["database_url"])
    hooks_before, mails_before = len(hooks.received), _mails(stack)

    for topic in (t for topics in CONSUMER_GROUPS.values() for t in topics):
        await republish(stack.kafka, await all_records(stack.kafka, topic), reprocess_job=None)
    for group, topics in CONSUMER_GROUPS.items():
        for topic in topics:
            await wait_until_caught_up(stack.kafka, group, topic)
    await asyncio.sleep(1)

    assert await database_fingerprint(stack.credentials["database_url"]) == rows_before
    assert (len(hooks.received), _mails(stack)) == (hooks_before, mails_before)


def _mails(stack: RunningStack) -> int:
    return len(list(Path(stack.credentials["mailbox_dir"]).glob("*.eml")))


async def _footprint(stack: RunningStack, hooks: HookReceiver) -> dict[str, int]:
    """What a duplicated effect would change: virtual users, minted clients, credential deliveries, hooks."""
    counts = {
        "clients events": len(await all_records(stack.kafka, PROVISIONING_CLIENTS)),
        "credentials events": len(await all_records(stack.kafka, TOKEN_CREDENTIALS)),
        "hooks": len(hooks.received),
    }
    async with httpx.AsyncClient(base_url=stack.urls["provisioning"]) as provisioning:
        for tenant in stack.credentials["tenants"]:
            headers = await bearer(stack, tenant["admin"])
            users = (await provisioning.get(f"/v1/tenants/{tenant['provet_id']}/virtual-users", headers=headers)).json()
            counts[f"virtual users {tenant['provet_id']}"] = len(_items(users))
    return counts


def _items(body: Any) -> list[dict[str, Any]]:
    return body if isinstance(body, list) else body.get("items", body.get("virtual_users", []))


async def _refused(payload: dict[str, Any]) -> bool:
    return (await token_for(payload)).status_code == 401


async def _inactive(stack: RunningStack, payload: dict[str, Any], access_token: str) -> bool:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{stack.urls['token']}/1002/oauth2/introspect/",
            data={"token": access_token},
            headers=await bearer(stack, stack.credentials["support"]),
        )
    return response.status_code == 200 and response.json()["active"] is False


async def _eventually(check: Any, what: str, timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out: {what}")


async def _eventually_status(
    catalogue: httpx.AsyncClient, stack: RunningStack, admin: dict[str, Any], activation_id: str, status: str
) -> dict[str, Any]:
    headers = await bearer(stack, admin)
    body: dict[str, Any] = {}
    for _ in range(600):
        body = (await catalogue.get(f"/v1/tenants/1001/applications/{activation_id}", headers=headers)).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"activation {activation_id} never became {status}: {body}")
