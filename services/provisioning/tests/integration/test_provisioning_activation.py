"""IntegrationActivated → one virtual user, one client, one secret; the token service accepts them."""

from __future__ import annotations

import base64
import json
import uuid

from aiokafka import ConsumerRecord
from vetgate_events.provisioning import ClientProvisioned, ClientRevoked
from vetgate_platform.secrets import secret_digest
from vetgate_provisioning.domain.event_ids import client_provisioned_id, client_revoked_id

from .provisioning_flows import (
    ProvisioningService,
    accepted_by_token_service,
    activation,
    client_token,
    deactivation,
    emitted,
    opened_secret,
    provisioned,
    publish,
    publish_many,
    records_of_activation,
)


def claims(access_token: str) -> dict[str, object]:
    payload = access_token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


async def test_activation_mints_credentials_that_get_a_token(provisioning: ProvisioningService) -> None:
    assert (await provisioning.http.get("/readyz")).status_code == 200, "database and Kafka reachable"
    activated = activation(1001, name="Reminders", permissions=["patients-clients", "reminder"])
    await publish(provisioning.bootstrap, activated)
    event = await provisioned(provisioning, activated)

    assert event.provet_id == 1001 and event.template_id == activated.template_id
    assert event.client_id.startswith("int-")
    assert event.virtual_user_id is not None
    assert event.permissions == ["patients-clients", "reminder"]
    assert event.delivery == activated.delivery
    secret = opened_secret(provisioning, event)
    assert event.secret_hash == secret_digest(secret), "the hash on the bus is the sealed secret's"
    assert len(base64.urlsafe_b64decode(secret + "==")) == 32, "256 random bits"

    await accepted_by_token_service(provisioning, event)
    response = await client_token(provisioning, 1001, event.client_id, secret)
    assert response.status_code == 200, response.text
    token = claims(response.json()["access_token"])
    assert token["sub"] == str(event.virtual_user_id)
    assert token["permissions"] == ["patients-clients", "reminder"]

    users = await provisioning.http.get(
        "/v1/tenants/1001/virtual-users", headers=await provisioning.token.admin_headers(1001)
    )
    mine = [u for u in users.json()["virtual_users"] if u["id"] == str(event.virtual_user_id)]
    assert mine == [
        {
            "id": str(event.virtual_user_id),
            "provet_id": 1001,
            "name": "Integration Reminders",
            "group": {"name": "Integration Reminders", "permissions": ["patients-clients", "reminder"]},
            "permissions": ["patients-clients", "reminder"],
            "active": True,
            "client_id": event.client_id,
            "activation_id": str(activated.activation_id),
            "template_id": str(activated.template_id),
        }
    ]


async def test_once_per_activation_under_redelivery_replay_and_republish(provisioning: ProvisioningService) -> None:
    activated = activation(1001)
    original_id = await publish(provisioning.bootstrap, activated)
    first = await provisioned(provisioning, activated)

    await publish(provisioning.bootstrap, activated, event_id=original_id)  # redelivery: same ce_id
    await publish(provisioning.bootstrap, activated, event_id=original_id, reprocess_job="job-1")  # operator replay
    await publish(provisioning.bootstrap, activated)  # re-published copy under a new ce_id
    # Same key, same partition: once the deactivation's effect is visible, every copy before it was handled.
    await publish(provisioning.bootstrap, deactivation(activated))
    await emitted(provisioning.bootstrap, ClientRevoked, activation_id=activated.activation_id)

    replayed = await provisioning.scalar(
        "SELECT count(*) FROM inbox WHERE event_id = :key", key=f"{original_id}#reprocess:job-1"
    )
    assert replayed == 1, "the marked replay did reach the handler"
    records = await records_of_activation(provisioning.bootstrap, activated.activation_id)
    kinds = [(dict(r.headers)["ce_type"].decode(), dict(r.headers)["ce_id"].decode()) for r in records]
    assert sorted(kinds) == sorted(
        [
            (ClientProvisioned.event_type(), str(client_provisioned_id(activated.activation_id))),
            (ClientRevoked.event_type(), str(client_revoked_id(activated.activation_id))),
        ]
    ), "one ClientProvisioned, under the id derived from the activation, and one ClientRevoked"
    for table, column in (("clients", "activation_id"), ("virtual_users", "template_id")):
        key = activated.activation_id if column == "activation_id" else activated.template_id
        assert await provisioning.scalar(f"SELECT count(*) FROM {table} WHERE {column} = :k", k=key) == 1
    assert await provisioning.scalar("SELECT count(*) FROM client_secrets WHERE client_id = :c", c=first.client_id) == 1


async def test_public_client_gets_no_secret_and_authorization_code_no_virtual_user(
    provisioning: ProvisioningService,
) -> None:
    public = activation(
        1002,
        grant_type="authorization_code",
        client_type="public",
        redirect_uris=["https://app.example/callback"],
    )
    confidential = activation(1002, grant_type="authorization_code", redirect_uris=["https://app.example/cb"])
    await publish(provisioning.bootstrap, public)
    await publish(provisioning.bootstrap, confidential)

    public_event = await provisioned(provisioning, public)
    assert public_event.client_id.startswith("app-")
    assert public_event.secret_hash is None and public_event.sealed_secret is None
    assert public_event.virtual_user_id is None and public_event.permissions == []
    assert public_event.redirect_uris == ["https://app.example/callback"]

    confidential_event = await provisioned(provisioning, confidential)
    assert confidential_event.virtual_user_id is None and confidential_event.permissions == []
    assert confidential_event.secret_hash == secret_digest(opened_secret(provisioning, confidential_event))
    for template in (public.template_id, confidential.template_id):
        users = await provisioning.scalar("SELECT count(*) FROM virtual_users WHERE template_id = :t", t=template)
        assert users == 0


async def test_a_go_live_burst_is_provisioned_once_per_tenant(provisioning: ProvisioningService) -> None:
    template_id = uuid.uuid4()
    burst = [activation(700_000 + i, template_id=template_id, name="Go-live") for i in range(60)]
    # A copy of one activation re-published under a new event id, inside the same burst.
    await publish_many(provisioning.bootstrap, [*burst[:30], burst[7], *burst[30:]])

    def provisioned_all(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return len({json.loads(r.value or b"")["activation_id"] for r in records}) == len(burst)

    ids = [a.activation_id for a in burst]
    records = await records_of_activation(provisioning.bootstrap, *ids, until=provisioned_all)
    events = [ClientProvisioned.parse_lenient(r.value or b"") for r in records]
    assert len(events) == len(burst), "one ClientProvisioned per activation, the copy minted nothing"
    assert len({e.client_id for e in events}) == len({e.virtual_user_id for e in events}) == len(burst)
    assert {e.provet_id for e in events} == {a.provet_id for a in burst}
    users = await provisioning.scalar("SELECT count(*) FROM virtual_users WHERE template_id = :t", t=template_id)
    assert users == len(burst)
