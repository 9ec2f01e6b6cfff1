"""Tenants browse and add applications; go-live adds them in one step; the notifier's outcomes set the status."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from catalogue_kit import Catalogue
from vetgate_events.catalogue import IntegrationActivated, IntegrationDeactivated, IntegrationPublished
from vetgate_events.common import HookDelivery
from vetgate_events.notifier import CredentialsDelivered, CredentialsDeliveryFailed
from vetgate_events.topics import CATALOGUE_ACTIVATIONS, CATALOGUE_TEMPLATES
from vetgate_messaging.testing import publish, wait_for_record


async def activation_event(catalogue: Catalogue, activation_id: str) -> IntegrationActivated:
    record = await wait_for_record(
        catalogue.infra.kafka_bootstrap, CATALOGUE_ACTIVATIONS, lambda h, _: h.get("ce_id") == activation_id.encode()
    )
    return IntegrationActivated.parse_lenient(record.value or b"")


async def add(catalogue: Catalogue, provet_id: int, template_id: str) -> Any:
    return await catalogue.http.post(
        f"/v1/tenants/{provet_id}/applications",
        json={"template_id": template_id},
        headers=await catalogue.admin(provet_id),
    )


async def test_a_sandbox_template_is_offered_only_to_its_sandbox_tenants(catalogue: Catalogue) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001])
    sandbox = await catalogue.http.get("/v1/tenants/1001/catalogue", headers=await catalogue.admin(1001))
    [item] = [i for i in sandbox.json()["integrations"] if i["template_id"] == template["id"]]
    assert item["in_sandbox"] and not item["added"]
    assert item["owner"] == {"name": "Ada Lab", "email": "ada@lab.example"}

    other = await catalogue.http.get("/v1/tenants/1002/catalogue", headers=await catalogue.admin(1002))
    assert template["id"] not in [i["template_id"] for i in other.json()["integrations"]]
    refused = await add(catalogue, 1002, template["id"])
    assert refused.status_code == 404
    assert refused.json()["error"] == "not_found"


async def test_adding_an_application_emits_integration_activated_with_the_sealed_signing_secret(
    catalogue: Catalogue,
) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001])
    response = await add(catalogue, 1001, template["id"])
    assert response.status_code == 202
    added = response.json()
    assert added["status"] == "pending"

    event = await activation_event(catalogue, added["id"])
    assert event.provet_id == 1001
    assert event.integration_name == template["name"]
    assert event.permissions == ["consultations", "laboratory"]
    assert isinstance(event.delivery, HookDelivery)
    assert [catalogue.notifier_keys.open(s) for s in event.delivery.signing_secrets] == [template["webhook_secret"]]

    status = await catalogue.http.get(
        f"/v1/tenants/1001/applications/{added['id']}", headers=await catalogue.admin(1001)
    )
    assert status.json()["status"] == "pending"


async def test_the_same_template_twice_is_refused_until_the_first_is_removed(catalogue: Catalogue) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001])
    first = (await add(catalogue, 1001, template["id"])).json()
    second = await add(catalogue, 1001, template["id"])
    assert second.status_code == 409
    assert second.json()["error"] == "already_added"

    admin = await catalogue.admin(1001)
    removed = await catalogue.http.delete(f"/v1/tenants/1001/applications/{first['id']}", headers=admin)
    assert removed.status_code == 202
    assert removed.json()["status"] == "deactivated"
    record = await wait_for_record(
        catalogue.infra.kafka_bootstrap,
        CATALOGUE_ACTIVATIONS,
        lambda h, v: h.get("ce_type") == IntegrationDeactivated.event_type().encode() and first["id"].encode() in v,
    )
    assert record.key == first["id"].encode(), "keyed by activation: ordered after its activation"
    again = await catalogue.http.delete(f"/v1/tenants/1001/applications/{first['id']}", headers=admin)
    assert again.status_code == 202, "removing twice is harmless"

    assert (await add(catalogue, 1001, template["id"])).status_code == 202


async def test_go_live_makes_the_template_public_and_adds_it_to_the_named_tenants(catalogue: Catalogue) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001])
    existing = (await add(catalogue, 1001, template["id"])).json()
    support = await catalogue.support()
    response = await catalogue.http.post(
        f"/v1/templates/{template['id']}/publish", json={"tenants": [1001, 1002, 1003, 1003]}, headers=support
    )
    assert response.status_code == 200, response.text
    live = response.json()
    assert live["template"]["state"] == "live"
    assert sorted(a["provet_id"] for a in live["activations"]) == [1002, 1003]
    assert live["already_added"] == [1001]
    for activation in live["activations"]:
        assert (await activation_event(catalogue, activation["id"])).provet_id == activation["provet_id"]
    await wait_for_record(
        catalogue.infra.kafka_bootstrap,
        CATALOGUE_TEMPLATES,
        lambda h, v: h.get("ce_type") == IntegrationPublished.event_type().encode() and template["id"].encode() in v,
    )

    # Publishing again adds nothing twice.
    again = await catalogue.http.post(
        f"/v1/templates/{template['id']}/publish", json={"tenants": [1002]}, headers=support
    )
    assert again.json()["activations"] == [] and again.json()["already_added"] == [1002]
    apps_1001 = await catalogue.http.get("/v1/tenants/1001/applications", headers=await catalogue.admin(1001))
    assert [a["id"] for a in apps_1001.json() if a["template_id"] == template["id"]] == [existing["id"]]


async def test_unpublish_hides_from_new_installs_but_keeps_existing_ones(catalogue: Catalogue) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001])
    support = await catalogue.support()
    await catalogue.http.post(f"/v1/templates/{template['id']}/publish", json={"tenants": [1002]}, headers=support)
    hidden = await catalogue.http.post(f"/v1/templates/{template['id']}/unpublish", headers=support)
    assert hidden.json()["state"] == "unlisted"

    assert (await add(catalogue, 1003, template["id"])).status_code == 404
    browse_1002 = await catalogue.http.get("/v1/tenants/1002/catalogue", headers=await catalogue.admin(1002))
    [still] = [i for i in browse_1002.json()["integrations"] if i["template_id"] == template["id"]]
    assert still["added"] and still["application"]["status"] == "pending"
    assert (await add(catalogue, 1001, template["id"])).status_code == 202, "sandbox tenants may still test it"


async def test_delivery_outcomes_move_the_status(catalogue: Catalogue) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001, 1002])
    ok = (await add(catalogue, 1001, template["id"])).json()
    failing = (await add(catalogue, 1002, template["id"])).json()
    now = datetime.now(UTC)
    common: dict[str, Any] = {"client_id": "c", "channel": "hook_url", "attempts": 1}
    await publish(
        catalogue.infra.kafka_bootstrap,
        CredentialsDelivered(
            delivery_id=uuid.uuid4(), activation_id=ok["id"], provet_id=1001, delivered_at=now, **common
        ),
        source="/vetgate/notifier",
    )
    await publish(
        catalogue.infra.kafka_bootstrap,
        CredentialsDeliveryFailed(
            delivery_id=uuid.uuid4(),
            activation_id=failing["id"],
            provet_id=1002,
            last_error="HTTP 500 after 8 attempts",
            failed_at=now,
            **common,
        ),
        source="/vetgate/notifier",
    )
    await _eventually_status(catalogue, 1001, ok["id"], "active")
    failed = await _eventually_status(catalogue, 1002, failing["id"], "delivery_failed")
    assert failed["last_error"] == "HTTP 500 after 8 attempts"


async def _eventually_status(catalogue: Catalogue, provet_id: int, activation_id: str, status: str) -> dict[str, Any]:
    headers = await catalogue.admin(provet_id)
    for _ in range(200):
        body: dict[str, Any] = (
            await catalogue.http.get(f"/v1/tenants/{provet_id}/applications/{activation_id}", headers=headers)
        ).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{activation_id} never became {status}: {body}")


async def test_tenant_admins_see_only_their_own_tenant(catalogue: Catalogue) -> None:
    template = await catalogue.create_template(sandbox_tenants=[1001])
    added = (await add(catalogue, 1001, template["id"])).json()
    intruder = await catalogue.admin(1002)
    for method, path in (
        ("GET", "/v1/tenants/1001/catalogue"),
        ("GET", "/v1/tenants/1001/applications"),
        ("GET", f"/v1/tenants/1001/applications/{added['id']}"),
        ("DELETE", f"/v1/tenants/1001/applications/{added['id']}"),
    ):
        response = await catalogue.http.request(method, path, headers=intruder)
        assert response.status_code == 401, path
    # Reaching another tenant's activation through one's own tenant path finds nothing.
    response = await catalogue.http.get(f"/v1/tenants/1002/applications/{added['id']}", headers=intruder)
    assert response.status_code == 404
    support = await catalogue.support()
    assert (
        await catalogue.http.get(f"/v1/tenants/1001/applications/{added['id']}", headers=support)
    ).status_code == 200


async def test_the_catalogue_page_renders_escaped_for_a_browser(catalogue: Catalogue) -> None:
    await catalogue.create_template(
        sandbox_tenants=[1003], name="Lab <script>alert(1)</script>", setup_instructions="Step 1 & 2"
    )
    page = await catalogue.http.get("/tenants/1003/catalogue", headers=await catalogue.admin(1003))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<script>alert(1)</script>" not in page.text
    assert "Lab &lt;script&gt;" in page.text and "Step 1 &amp; 2" in page.text
    assert (await catalogue.http.get("/tenants/1003/catalogue")).status_code == 401
