"""Support manages templates: validation naming the field, the whsec_ secret shown once and stored sealed."""

from __future__ import annotations

from typing import Any

import pytest
from catalogue_kit import Catalogue, CatalogueFactory, template_body
from sqlalchemy import select
from vetgate_catalogue.adapters.tables import webhook_secrets
from vetgate_events.catalogue import TemplatePermissionsChanged
from vetgate_events.common import SealedValue
from vetgate_events.topics import CATALOGUE_TEMPLATES
from vetgate_messaging.testing import wait_for_record
from vetgate_platform.sealing import webhook_secret_binding


async def _sealed_secrets(catalogue: Catalogue, template_id: str) -> list[SealedValue]:
    async with catalogue.host.engine.connect() as conn:
        rows = await conn.execute(select(webhook_secrets.c.sealed).where(webhook_secrets.c.template_id == template_id))
        return [SealedValue.model_validate(r.sealed) for r in rows]


async def test_a_hook_template_gets_a_signing_secret_shown_once_and_stored_sealed(catalogue: Catalogue) -> None:
    created = await catalogue.create_template()
    assert created["state"] == "sandbox"
    assert created["webhook_secret"].startswith("whsec_")
    assert created["permissions"] == ["consultations", "laboratory"]

    again = await catalogue.http.get(f"/v1/templates/{created['id']}", headers=await catalogue.support())
    assert again.status_code == 200
    assert "webhook_secret" not in again.json()

    [sealed] = await _sealed_secrets(catalogue, created["id"])
    assert created["webhook_secret"] not in sealed.model_dump_json()
    assert sealed.aad_event_id.startswith(f"whsec:{created['id']}:")
    assert catalogue.notifier_keys.open(sealed) == created["webhook_secret"]


async def test_an_email_template_has_no_signing_secret_and_defaults_to_the_users_rights(catalogue: Catalogue) -> None:
    body = template_body(delivery={"kind": "email", "address": "dev@lab.example"})
    del body["permissions"]
    response = await catalogue.http.post("/v1/templates", json=body, headers=await catalogue.support())
    assert response.status_code == 201
    assert "webhook_secret" not in response.json()
    assert response.json()["permissions"] == sorted(
        ["patients-clients", "consultations", "clinical-notes", "reminder", "appointments"]
    )


BAD_FIELDS: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"grant_type": "password"}, ["body", "grant_type"]),
    ({"client_type": "public"}, ["body", "client_type"]),
    ({"grant_type": "authorization_code"}, ["body", "redirect_uris"]),
    ({"grant_type": "authorization_code", "redirect_uris": ["https://app.example/cb#frag"]}, ["body", "redirect_uris"]),
    ({"redirect_uris": ["https://app.example/cb"]}, ["body", "redirect_uris"]),
    ({"owner": {"name": "Ada", "email": "not-an-email"}}, ["body", "owner", "email"]),
    ({"delivery": {"kind": "email", "address": "nobody@"}}, ["body", "delivery", "email", "address"]),
    ({"delivery": {"kind": "hook_url", "url": "ftp://hooks.example/x"}}, ["body", "delivery", "hook_url", "url"]),
    ({"delivery": {"kind": "pigeon"}}, ["body", "delivery"]),
    ({"permissions": ["consultations", "root-access"]}, ["body", "permissions"]),
    ({"name": "  "}, ["body", "name"]),
    ({"sandbox_tenants": [0]}, ["body", "sandbox_tenants", 0]),
]


@pytest.mark.parametrize(("change", "loc"), BAD_FIELDS)
async def test_every_bad_field_answers_422_naming_it(
    catalogue: Catalogue, change: dict[str, Any], loc: list[str | int]
) -> None:
    response = await catalogue.http.post(
        "/v1/templates", json=template_body(**change), headers=await catalogue.support()
    )
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]


async def test_an_http_hook_url_is_refused_outside_the_dev_stack(catalogue_factory: CatalogueFactory) -> None:
    production = await catalogue_factory(dev_mode=False)
    headers = await production.support()
    for url in ("http://hooks.lab.example/vetgate", "https://127.0.0.1/hook", "https://localhost/hook"):
        body = template_body(delivery={"kind": "hook_url", "url": url})
        response = await production.http.post("/v1/templates", json=body, headers=headers)
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["loc"] == ["body", "delivery", "url"]
    assert (await production.http.post("/v1/templates", json=template_body(), headers=headers)).status_code == 201


async def test_only_support_manages_templates(catalogue: Catalogue) -> None:
    assert (await catalogue.http.post("/v1/templates", json=template_body())).status_code == 401
    admin = await catalogue.admin(1001)
    response = await catalogue.http.post("/v1/templates", json=template_body(), headers=admin)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert (await catalogue.http.get("/v1/templates", headers=admin)).status_code == 403


async def test_an_update_is_validated_as_a_whole_and_announces_changed_permissions(catalogue: Catalogue) -> None:
    created = await catalogue.create_template()
    support = await catalogue.support()
    path = f"/v1/templates/{created['id']}"

    refused = await catalogue.http.patch(path, json={"client_type": "public"}, headers=support)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "client_type"]
    assert (await catalogue.http.patch(path, json={"colour": "red"}, headers=support)).status_code == 422

    changed = await catalogue.http.patch(
        path, json={"permissions": ["consultations", "reminder"], "description": "v2"}, headers=support
    )
    assert changed.status_code == 200
    assert changed.json()["permissions"] == ["consultations", "reminder"]
    assert changed.json()["description"] == "v2"

    record = await wait_for_record(
        catalogue.infra.kafka_bootstrap,
        CATALOGUE_TEMPLATES,
        lambda headers, value: (
            headers.get("ce_type") == TemplatePermissionsChanged.event_type().encode()
            and created["id"].encode() in value
        ),
    )
    event = TemplatePermissionsChanged.parse_lenient(record.value or b"")
    assert (event.added, event.removed) == (["reminder"], ["laboratory"])


async def test_unknown_template_is_404_with_an_oauth_style_body(catalogue: Catalogue) -> None:
    response = await catalogue.http.get(
        "/v1/templates/00000000-0000-4000-8000-000000000000", headers=await catalogue.support()
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_rotating_the_signing_secret_keeps_the_previous_one_for_the_overlap(catalogue: Catalogue) -> None:
    created = await catalogue.create_template()
    support = await catalogue.support()
    response = await catalogue.http.post(
        f"/v1/templates/{created['id']}/webhook-secret/rotations", json={"overlap_seconds": 3600}, headers=support
    )
    assert response.status_code == 201
    rotated = response.json()
    assert rotated["webhook_secret"].startswith("whsec_") and rotated["webhook_secret"] != created["webhook_secret"]
    assert rotated["previous_secret_valid_until"] is not None

    opened = {catalogue.notifier_keys.open(s) for s in await _sealed_secrets(catalogue, created["id"])}
    assert opened == {created["webhook_secret"], rotated["webhook_secret"]}

    email = await catalogue.create_template(delivery={"kind": "email", "address": "dev@lab.example"})
    refused = await catalogue.http.post(
        f"/v1/templates/{email['id']}/webhook-secret/rotations", json={}, headers=support
    )
    assert refused.status_code == 409


def test_binding_names_template_and_secret() -> None:
    assert webhook_secret_binding("t", "s") == "whsec:t:s"
