"""IntegrationDeactivated → virtual user disabled, ClientRevoked, credentials refused; adding it again
re-enables the same virtual user with fresh credentials."""

from __future__ import annotations

from vetgate_events.provisioning import ClientRevoked
from vetgate_events.token import ClientDisabled

from .provisioning_flows import (
    ProvisioningService,
    activation,
    client_token,
    deactivation,
    emitted,
    eventually,
    live_client,
    publish,
)


async def test_deactivation_revokes_and_reactivation_reenables_the_same_user(
    provisioning: ProvisioningService,
) -> None:
    activated = activation(1001, name="Lab sync", permissions=["laboratory"])
    event, secret = await live_client(provisioning, activated)
    assert (await client_token(provisioning, 1001, event.client_id, secret)).status_code == 200

    await publish(provisioning.bootstrap, deactivation(activated))
    revoked = ClientRevoked.parse_lenient(
        (await emitted(provisioning.bootstrap, ClientRevoked, client_id=event.client_id)).value or b""
    )
    assert revoked.activation_id == activated.activation_id and revoked.provet_id == 1001
    await emitted(provisioning.bootstrap, ClientDisabled, client_id=event.client_id)  # the token service applied it
    refused = await client_token(provisioning, 1001, event.client_id, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"

    admin = await provisioning.token.admin_headers(1001)
    user_url = f"/v1/tenants/1001/virtual-users/{event.virtual_user_id}"
    disabled = (await provisioning.http.get(user_url, headers=admin)).json()
    assert disabled["active"] is False
    enabling = await provisioning.http.patch(user_url, json={"active": True}, headers=admin)
    assert enabling.status_code == 409 and enabling.json()["error"] == "activation_deactivated"

    again = activation(1001, template_id=activated.template_id, name="Lab sync", permissions=["laboratory"])
    new_event, new_secret = await live_client(provisioning, again)
    assert new_event.virtual_user_id == event.virtual_user_id, "the tenant's user for this template, enabled again"
    assert new_event.client_id != event.client_id
    assert (await client_token(provisioning, 1001, new_event.client_id, new_secret)).status_code == 200
    assert (await client_token(provisioning, 1001, event.client_id, secret)).status_code == 401
    enabled = (await provisioning.http.get(user_url, headers=admin)).json()
    assert enabled["active"] is True and enabled["client_id"] == new_event.client_id


async def test_a_late_copy_of_a_removed_activation_mints_nothing(provisioning: ProvisioningService) -> None:
    activated = activation(1003)
    await publish(provisioning.bootstrap, deactivation(activated))  # its activation never arrived (e.g. in the DLQ)
    late_copy = await publish(provisioning.bootstrap, activated)  # ... and is re-driven later

    async def handled() -> bool:
        return await provisioning.scalar("SELECT count(*) FROM inbox WHERE event_id = :e", e=late_copy) == 1

    await eventually(handled, "the late copy handled")
    key = activated.activation_id
    clients = await provisioning.scalar("SELECT count(*) FROM clients WHERE activation_id = :a", a=key)
    status = await provisioning.scalar("SELECT status FROM activations WHERE activation_id = :a", a=key)
    assert (clients, status) == (0, "removed")
