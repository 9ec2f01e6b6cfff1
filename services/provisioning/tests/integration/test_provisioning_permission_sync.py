"""TemplatePermissionsChanged: every tenant's group moves by the template's delta; the tenant's own
adjustments to other rights survive; one VirtualUserChanged per changed client."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from vetgate_events.catalogue import TemplatePermissionsChanged
from vetgate_events.provisioning import VirtualUserChanged
from vetgate_messaging.testing import wait_for_record

from .provisioning_flows import ProvisioningService, activation, eventually, live_client, publish


async def test_template_change_reaches_every_tenant_and_keeps_their_own_changes(
    provisioning: ProvisioningService,
) -> None:
    template_id = uuid.uuid4()
    granted = ["patients-clients", "reminder"]
    first, _ = await live_client(provisioning, activation(1001, template_id=template_id, permissions=granted))
    second, _ = await live_client(provisioning, activation(1002, template_id=template_id, permissions=granted))
    admin = await provisioning.token.admin_headers(1001)
    own_change = await provisioning.http.patch(
        f"/v1/tenants/1001/virtual-users/{first.virtual_user_id}",
        json={"permissions": ["patients-clients", "reminder", "invoices"]},
        headers=admin,
    )
    assert own_change.status_code == 200

    change = TemplatePermissionsChanged(
        template_id=template_id,
        integration_name="Reminders",
        permissions=["patients-clients", "consultations"],
        added=["consultations"],
        removed=["reminder"],
        changed_at=datetime.now(UTC),
    )
    await publish(provisioning.bootstrap, change)
    for client, expected in (
        (first, ["patients-clients", "invoices", "consultations"]),
        (second, ["patients-clients", "consultations"]),
    ):

        def synced(headers: dict[str, bytes], value: bytes, client_id: str = client.client_id) -> bool:
            body = json.loads(value)
            return body.get("client_id") == client_id and "consultations" in body.get("permissions", [])

        record = await wait_for_record(provisioning.bootstrap, VirtualUserChanged.topic, synced)
        assert VirtualUserChanged.parse_lenient(record.value or b"").permissions == expected

    support = await provisioning.token.support_headers()
    for provet_id, client, expected in (
        (1001, first, ["patients-clients", "invoices", "consultations"]),
        (1002, second, ["patients-clients", "consultations"]),
    ):
        user = await provisioning.http.get(
            f"/v1/tenants/{provet_id}/virtual-users/{client.virtual_user_id}", headers=support
        )
        assert user.json()["permissions"] == expected

    # The same change again (a replay, or a copy under a new id) changes nothing and emits nothing.
    versions_sql = "SELECT sum(version) FROM virtual_users WHERE template_id = :t"
    versions = await provisioning.scalar(versions_sql, t=template_id)
    copy_id = await publish(provisioning.bootstrap, change)

    async def handled() -> bool:
        return await provisioning.scalar("SELECT count(*) FROM inbox WHERE event_id = :e", e=copy_id) == 1

    await eventually(handled, "the copy handled")
    assert await provisioning.scalar(versions_sql, t=template_id) == versions
