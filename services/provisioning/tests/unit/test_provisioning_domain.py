"""Provisioning's rules, without I/O."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from vetgate_events.common import EmailDelivery
from vetgate_provisioning.config import ProvisioningSettings
from vetgate_provisioning.domain import event_ids
from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.domain.credentials import has_secret, has_virtual_user, new_client_id, new_client_secret
from vetgate_provisioning.domain.errors import ActivationRemoved, InvalidRequest, NoSecretToRotate
from vetgate_provisioning.domain.rotation import previous_secret_valid_until
from vetgate_provisioning.domain.template_changes import TemplateChange, rights_at_provisioning
from vetgate_provisioning.domain.virtual_users import (
    VirtualUser,
    requested_permissions,
    synced_permissions,
    virtual_user_name,
)


def test_the_template_delta_moves_and_the_tenants_own_rights_stay() -> None:
    tenant_adjusted = ["patients-clients", "reminder", "invoices"]  # the admin added invoices
    after = synced_permissions(tenant_adjusted, added=["consultations"], removed=["reminder"])
    assert after == ("patients-clients", "invoices", "consultations")
    assert synced_permissions(after, added=["consultations"], removed=["reminder"]) == after, "idempotent"


def test_a_right_both_added_and_removed_ends_up_withdrawn_and_duplicates_do_not_pile_up() -> None:
    assert synced_permissions(["reminder"], added=["items", "items", "reminder"], removed=["items"]) == ("reminder",)


def test_requested_permissions_name_each_unknown_key_by_position() -> None:
    with pytest.raises(InvalidRequest) as refused:
        requested_permissions(["reminder", "fly", "items", "swim"])
    assert [(f.field, f.message) for f in refused.value.fields] == [
        ("permissions[1]", "unknown permission 'fly'"),
        ("permissions[3]", "unknown permission 'swim'"),
    ]
    assert requested_permissions(["items", "reminder", "items"]) == ("items", "reminder")
    assert requested_permissions([]) == ()


def test_a_virtual_user_changes_version_only_when_something_changes() -> None:
    user = VirtualUser(
        uuid.uuid4(), 1, uuid.uuid4(), "Integration X", "Integration X", ("items",), True, "int-1", uuid.uuid4(), 3
    )
    assert user.changed(permissions=["items"]) is None
    assert user.changed(active=True) is None
    disabled = user.changed(active=False)
    assert disabled is not None and (disabled.active, disabled.version, disabled.permissions) == (False, 4, ("items",))
    assert virtual_user_name("Lab sync") == "Integration Lab sync"


def test_who_gets_a_secret_and_a_virtual_user() -> None:
    assert has_secret("confidential") and not has_secret("public")
    assert has_virtual_user("client_credentials") and not has_virtual_user("authorization_code")
    assert new_client_id("client_credentials").startswith("int-")
    assert new_client_id("authorization_code").startswith("app-")
    assert new_client_id("client_credentials") != new_client_id("client_credentials")
    secret = new_client_secret()
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 32, "256 random bits"


def test_event_ids_follow_their_cause() -> None:
    activation, user = uuid.uuid4(), uuid.uuid4()
    assert event_ids.client_provisioned_id(activation) == event_ids.client_provisioned_id(activation)
    assert event_ids.client_provisioned_id(activation) != event_ids.client_provisioned_id(uuid.uuid4())
    assert event_ids.secret_rotated_id(activation, 2) != event_ids.secret_rotated_id(activation, 3)
    assert event_ids.virtual_user_changed_id(user, 2) != event_ids.virtual_user_changed_id(user, 3)
    assert len({event_ids.client_revoked_id(activation), event_ids.client_provisioned_id(activation)}) == 2


def test_rotation_overlap_bounds() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert previous_secret_valid_until(now, 86_400, 30 * 86_400) == now + timedelta(days=1)
    assert previous_secret_valid_until(now, 0, 30 * 86_400) == now, "zero ends the old secret at once"
    for out_of_range in (-1, 30 * 86_400 + 1):
        with pytest.raises(InvalidRequest) as refused:
            previous_secret_valid_until(now, out_of_range, 30 * 86_400)
        assert refused.value.fields[0].field == "overlap_seconds"


def test_only_a_live_confidential_client_can_rotate() -> None:
    client = Client(
        "int-1", uuid.uuid4(), uuid.uuid4(), 1, "X", "client_credentials", "confidential", (), uuid.uuid4(),
        EmailDelivery(address="a@example.com"),
    )  # fmt: skip
    client.check_rotatable()
    with pytest.raises(ActivationRemoved):
        replace(client, revoked=True).check_rotatable()
    with pytest.raises(NoSecretToRotate):
        replace(client, client_type="public").check_rotatable()


def test_rights_at_provisioning_apply_only_the_changes_made_after_the_activation() -> None:
    template, other = uuid.uuid4(), uuid.uuid4()
    issued = datetime(2026, 1, 1, tzinfo=UTC)
    changes = [
        TemplateChange(template, issued + timedelta(seconds=2), ("items",), ()),
        TemplateChange(template, issued - timedelta(seconds=1), ("laboratory",), ()),  # already in the event
        TemplateChange(other, issued + timedelta(seconds=1), ("reports",), ()),
        TemplateChange(template, issued + timedelta(seconds=1), (), ("reminder",)),
    ]
    assert rights_at_provisioning(template, ["reminder", "patients-clients"], issued, changes) == (
        "patients-clients",
        "items",
    )


def test_settings_refuse_a_default_overlap_above_the_maximum() -> None:
    with pytest.raises(ValueError, match="exceeds the maximum overlap"):
        ProvisioningSettings(secret_overlap_seconds=10, max_secret_overlap_seconds=5)
    assert ProvisioningSettings().secret_overlap_seconds == 86_400, "24 h by default"
