"""Secret rotation: new credentials through the same channel; the old secret works during the overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vetgate_events.provisioning import ClientProvisioned, ClientRevoked
from vetgate_platform.secrets import secret_digest

from .provisioning_flows import (
    ProvisioningService,
    accepted_by_token_service,
    activation,
    client_token,
    deactivation,
    emitted,
    live_client,
    opened_secret,
    publish,
    rotated,
)


async def test_old_secret_works_during_the_overlap_and_the_new_one_at_once(provisioning: ProvisioningService) -> None:
    activated = activation(1001)
    event, old_secret = await live_client(provisioning, activated)
    url = f"/v1/tenants/1001/applications/{activated.activation_id}/secret-rotations"
    before = datetime.now(UTC)

    response = await provisioning.http.post(url, headers=await provisioning.token.admin_headers(1001))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["client_id"] == event.client_id
    valid_until = datetime.fromisoformat(body["previous_secret_valid_until"])
    assert before + timedelta(hours=24) <= valid_until <= datetime.now(UTC) + timedelta(hours=24), "default: 24 h"

    rotation = await rotated(provisioning, event, body["previous_secret_valid_until"])
    new_secret = opened_secret(provisioning, rotation)
    assert new_secret != old_secret and rotation.secret_hash == secret_digest(new_secret)
    assert rotation.delivery == activated.delivery, "delivered through the activation's own channel"
    assert (rotation.virtual_user_id, rotation.permissions) == (event.virtual_user_id, event.permissions)
    await accepted_by_token_service(provisioning, rotation)  # a new event id: a new delivery
    assert (await client_token(provisioning, 1001, event.client_id, new_secret)).status_code == 200
    assert (await client_token(provisioning, 1001, event.client_id, old_secret)).status_code == 200


async def test_zero_overlap_ends_the_old_secret_at_once(provisioning: ProvisioningService) -> None:
    activated = activation(1002)
    event, old_secret = await live_client(provisioning, activated)
    response = await provisioning.http.post(
        f"/v1/tenants/1002/applications/{activated.activation_id}/secret-rotations",
        json={"overlap_seconds": 0},
        headers=await provisioning.token.support_headers(),
    )
    assert response.status_code == 202, response.text
    rotation = await rotated(provisioning, event, response.json()["previous_secret_valid_until"])
    await accepted_by_token_service(provisioning, rotation)
    new_secret = opened_secret(provisioning, rotation)
    assert (await client_token(provisioning, 1002, event.client_id, new_secret)).status_code == 200
    assert (await client_token(provisioning, 1002, event.client_id, old_secret)).status_code == 401


async def test_rotation_refusals(provisioning: ProvisioningService) -> None:
    admin = await provisioning.token.admin_headers(1003)
    public = activation(
        1003, grant_type="authorization_code", client_type="public", redirect_uris=["https://a.example/cb"]
    )
    await publish(provisioning.bootstrap, public)
    await emitted(provisioning.bootstrap, ClientProvisioned, activation_id=public.activation_id)
    removed = activation(1003)
    await live_client(provisioning, removed)
    await publish(provisioning.bootstrap, deactivation(removed))
    await emitted(provisioning.bootstrap, ClientRevoked, activation_id=removed.activation_id)
    live = activation(1003)
    await live_client(provisioning, live)

    def url(provet_id: int, activation_id: object) -> str:
        return f"/v1/tenants/{provet_id}/applications/{activation_id}/secret-rotations"

    no_secret = await provisioning.http.post(url(1003, public.activation_id), headers=admin)
    assert no_secret.status_code == 409 and no_secret.json()["error"] == "public_client_has_no_secret"
    gone = await provisioning.http.post(url(1003, removed.activation_id), headers=admin)
    assert gone.status_code == 409 and gone.json()["error"] == "activation_deactivated"
    support = await provisioning.token.support_headers()
    assert (await provisioning.http.post(url(1001, live.activation_id), headers=support)).status_code == 404
    assert (await provisioning.http.post(url(1003, "not-an-id"), headers=admin)).status_code == 404
    other_admin = await provisioning.token.admin_headers(1002)
    assert (await provisioning.http.post(url(1003, live.activation_id), headers=other_admin)).status_code == 401
    for body in ({"overlap_seconds": -1}, {"overlap_seconds": 10**9}, {"overlap_seconds": "soon"}, {"x": 1}):
        refused = await provisioning.http.post(url(1003, live.activation_id), json=body, headers=admin)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["fields"]
