"""The virtual-user API: a tenant admin (or support) views and adjusts rights; other tenants see nothing."""

from __future__ import annotations

from vetgate_events.provisioning import VirtualUserChanged

from .provisioning_flows import (
    ProvisioningService,
    activation,
    client_token,
    emitted,
    eventually,
    live_client,
    token_claims,
)


async def test_admin_adjusts_rights_and_the_token_service_follows(provisioning: ProvisioningService) -> None:
    event, secret = await live_client(provisioning, activation(1001, permissions=["patients-clients", "reminder"]))
    url = f"/v1/tenants/1001/virtual-users/{event.virtual_user_id}"
    admin = await provisioning.token.admin_headers(1001)

    changed = await provisioning.http.patch(url, json={"permissions": ["patients-clients", "invoices"]}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["permissions"] == ["patients-clients", "invoices"]
    assert changed.json()["group"]["permissions"] == ["patients-clients", "invoices"]
    record = await emitted(provisioning.bootstrap, VirtualUserChanged, client_id=event.client_id)
    assert VirtualUserChanged.parse_lenient(record.value or b"").permissions == ["patients-clients", "invoices"]

    async def token_has_new_rights() -> bool:
        response = await client_token(provisioning, 1001, event.client_id, secret)
        return response.status_code == 200 and token_claims(response)["permissions"] == ["patients-clients", "invoices"]

    await eventually(token_has_new_rights, "tokens with the adjusted rights")

    support = await provisioning.token.support_headers()
    seen_by_support = await provisioning.http.get(url, headers=support)
    assert seen_by_support.status_code == 200
    assert seen_by_support.json()["permissions"] == ["patients-clients", "invoices"]

    disabled = await provisioning.http.patch(url, json={"active": False}, headers=support)
    assert disabled.status_code == 200 and disabled.json()["active"] is False

    async def refused() -> bool:
        return (await client_token(provisioning, 1001, event.client_id, secret)).status_code == 401

    await eventually(refused, "a disabled virtual user's client refused")
    enabled = await provisioning.http.patch(url, json={"active": True}, headers=admin)
    assert enabled.status_code == 200 and enabled.json()["active"] is True

    async def accepted() -> bool:
        return (await client_token(provisioning, 1001, event.client_id, secret)).status_code == 200

    await eventually(accepted, "the enabled virtual user's client accepted again")


async def test_tenant_isolation(provisioning: ProvisioningService) -> None:
    event, secret = await live_client(provisioning, activation(1001))
    own = f"/v1/tenants/1001/virtual-users/{event.virtual_user_id}"
    other_admin = await provisioning.token.admin_headers(1002)

    listing = await provisioning.http.get("/v1/tenants/1001/virtual-users", headers=other_admin)
    assert listing.status_code == 401 and listing.json()["error"] == "invalid_token"
    assert (await provisioning.http.get(own, headers=other_admin)).status_code == 401
    patched = await provisioning.http.patch(own, json={"active": False}, headers=other_admin)
    assert patched.status_code == 401
    # Through its own tenant's path, the other tenant's user simply does not exist.
    foreign = f"/v1/tenants/1002/virtual-users/{event.virtual_user_id}"
    assert (await provisioning.http.get(foreign, headers=other_admin)).status_code == 404
    assert (await provisioning.http.patch(foreign, json={"active": False}, headers=other_admin)).status_code == 404
    users_of_1002 = (await provisioning.http.get("/v1/tenants/1002/virtual-users", headers=other_admin)).json()
    assert str(event.virtual_user_id) not in {u["id"] for u in users_of_1002["virtual_users"]}

    assert (await provisioning.http.get(own)).status_code == 401, "no token"
    integration = await client_token(provisioning, 1001, event.client_id, secret)
    as_integration = {"Authorization": f"Bearer {integration.json()['access_token']}"}
    forbidden = await provisioning.http.get(own, headers=as_integration)
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "insufficient_scope"
    assert (await provisioning.http.get(own, headers=await provisioning.token.admin_headers(1001))).status_code == 200


async def test_client_mistakes_are_422_or_404_never_500(provisioning: ProvisioningService) -> None:
    event, _ = await live_client(provisioning, activation(1002))
    url = f"/v1/tenants/1002/virtual-users/{event.virtual_user_id}"
    admin = await provisioning.token.admin_headers(1002)

    unknown = await provisioning.http.patch(url, json={"permissions": ["reminder", "fly-the-plane"]}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.json() == {
        "error": "invalid_request",
        "error_description": "unknown permission keys",
        "fields": [{"field": "permissions[1]", "message": "unknown permission 'fly-the-plane'"}],
    }
    for body in ({}, {"permissions": "reminder"}, {"active": "maybe"}, {"colour": "blue"}):
        response = await provisioning.http.patch(url, json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "invalid_request" and response.json()["fields"]
    as_json = admin | {"content-type": "application/json"}
    not_json = await provisioning.http.patch(url, content=b"{nope", headers=as_json)
    assert not_json.status_code == 422
    for missing in ("/v1/tenants/1002/virtual-users/not-a-uuid", "/v1/tenants/1002/virtual-users/" + "0" * 32):
        assert (await provisioning.http.get(missing, headers=admin)).status_code == 404
    unchanged = (await provisioning.http.get(url, headers=admin)).json()
    assert unchanged["permissions"] == event.permissions
