"""The service layer against an in-memory store: once per activation, revocation, sync, admin changes,
rotation."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from vetgate_events.catalogue import IntegrationActivated, IntegrationDeactivated, TemplatePermissionsChanged
from vetgate_events.provisioning import ClientProvisioned, ClientRevoked, VirtualUserChanged
from vetgate_platform.sealing import SealingKeyring, client_secret_binding
from vetgate_platform.secrets import secret_digest
from vetgate_provisioning.domain.errors import (
    ActivationRemoved,
    InvalidRequest,
    NoSecretToRotate,
    NotFound,
    VirtualUserDisabled,
)
from vetgate_provisioning.domain.event_ids import client_provisioned_id, secret_rotated_id
from vetgate_provisioning.service_layer.activations import Activations
from vetgate_provisioning.service_layer.permission_sync import sync_template_permissions
from vetgate_provisioning.service_layer.rotation import SecretRotation
from vetgate_provisioning.service_layer.virtual_user_admin import change_virtual_user

from .provisioning_fakes import FakeStore, activated

KEYRING = SealingKeyring.generate()
ACTIVATIONS = Activations(KEYRING.public_key)
ROTATION = SecretRotation(KEYRING.public_key, default_overlap_seconds=86_400, max_overlap_seconds=30 * 86_400)


def provisioned(store: FakeStore) -> list[ClientProvisioned]:
    return [e for e in store.emitted(ClientProvisioned) if isinstance(e, ClientProvisioned)]


def removal(event: IntegrationActivated) -> IntegrationDeactivated:
    return IntegrationDeactivated(
        activation_id=event.activation_id,
        template_id=event.template_id,
        provet_id=event.provet_id,
        deactivated_at=datetime.now(UTC),
    )


async def test_an_activation_is_provisioned_once_however_often_it_arrives() -> None:
    store, event = FakeStore(), activated()
    await ACTIVATIONS.activate([event, event], store)  # two copies in one run
    await ACTIVATIONS.activate([event], store)  # and a replay later
    [minted] = provisioned(store)
    assert list(store.outbox) == [client_provisioned_id(event.activation_id)]
    assert len(store.clients.clients) == 1 and len(store.virtual_users.users) == 1
    assert minted.sealed_secret is not None
    secret = KEYRING.open(minted.sealed_secret, bound_to=client_secret_binding(minted.client_id))
    assert minted.secret_hash == secret_digest(secret)
    assert store.clients.secrets[minted.client_id] == [(minted.secret_hash, None)], "only the hash is stored"


async def test_public_and_authorization_code_clients() -> None:
    store = FakeStore()
    public = activated(grant_type="authorization_code", client_type="public", redirect_uris=["https://a.example/cb"])
    await ACTIVATIONS.activate([public], store)
    [minted] = provisioned(store)
    assert (minted.secret_hash, minted.sealed_secret, minted.virtual_user_id, minted.permissions) == (
        None,
        None,
        None,
        [],
    )
    assert store.virtual_users.users == {}


async def test_two_activations_of_one_template_at_one_tenant_share_the_virtual_user() -> None:
    store = FakeStore()
    first = activated()
    second = activated(template_id=first.template_id)
    await ACTIVATIONS.activate([first, second], store)
    by_activation = {e.activation_id: e for e in provisioned(store)}
    assert by_activation[first.activation_id].virtual_user_id == by_activation[second.activation_id].virtual_user_id
    [user] = store.virtual_users.users.values()
    assert user.client_id == by_activation[second.activation_id].client_id, "the later activation's client"


async def test_removal_revokes_once_and_adding_again_keeps_the_groups_rights() -> None:
    store, event = FakeStore(), activated()
    await ACTIVATIONS.activate([event], store)
    [user] = store.virtual_users.users.values()
    await change_virtual_user(store, 1001, user.id, permissions=["items"], active=None)
    await ACTIVATIONS.deactivate(removal(event), store)
    await ACTIVATIONS.deactivate(removal(event), store)
    assert len(store.emitted(ClientRevoked)) == 1
    assert store.virtual_users.users[user.id].active is False

    again = activated(template_id=event.template_id)
    await ACTIVATIONS.activate([again], store)
    [user_again] = store.virtual_users.users.values()
    assert (user_again.id, user_again.active, user_again.permissions) == (user.id, True, ("items",))
    latest = next(e for e in provisioned(store) if e.activation_id == again.activation_id)
    assert latest.permissions == ["items"], "the token service gets the group's current rights"


async def test_a_removal_before_its_activation_means_it_is_never_provisioned() -> None:
    store, event = FakeStore(), activated()
    await ACTIVATIONS.deactivate(removal(event), store)
    await ACTIVATIONS.activate([event], store)
    assert store.outbox == {} and store.clients.clients == {}


async def test_sync_moves_the_delta_and_a_replay_emits_nothing() -> None:
    store = FakeStore()
    template_id = uuid.uuid4()
    tenants = [activated(1001, template_id=template_id), activated(1002, template_id=template_id)]
    await ACTIVATIONS.activate(tenants, store)
    own = next(u for u in store.virtual_users.users.values() if u.provet_id == 1001)
    await change_virtual_user(store, 1001, own.id, permissions=["patients-clients", "reminder", "items"], active=None)
    change = TemplatePermissionsChanged(
        template_id=template_id,
        integration_name="Reminders",
        permissions=["patients-clients", "consultations"],
        added=["consultations"],
        removed=["reminder"],
        changed_at=datetime.now(UTC),
    )
    before = len(store.outbox)
    assert await sync_template_permissions(change, store) == 2
    rights = {u.provet_id: u.permissions for u in store.virtual_users.users.values()}
    assert rights == {
        1001: ("patients-clients", "items", "consultations"),
        1002: ("patients-clients", "consultations"),
    }
    assert len(store.outbox) == before + 2
    assert await sync_template_permissions(change, store) == 0
    assert len(store.outbox) == before + 2


async def test_an_activation_issued_before_a_template_change_but_handled_after_it_catches_up() -> None:
    store = FakeStore()
    template_id = uuid.uuid4()
    issued_early = activated(1001, template_id=template_id, permissions=["patients-clients", "reminder"])
    change = TemplatePermissionsChanged(
        template_id=template_id,
        integration_name="Reminders",
        permissions=["patients-clients", "consultations"],
        added=["consultations"],
        removed=["reminder"],
        changed_at=issued_early.activated_at + timedelta(seconds=1),
    )
    await sync_template_permissions(change, store)  # the other topic was faster
    issued_late = activated(1002, template_id=template_id, permissions=["patients-clients", "consultations"])
    await ACTIVATIONS.activate([issued_early, issued_late], store)
    rights = {e.provet_id: e.permissions for e in provisioned(store)}
    assert rights == {1001: ["patients-clients", "consultations"], 1002: ["patients-clients", "consultations"]}


async def test_admin_changes() -> None:
    store = FakeStore()
    event = activated()
    await ACTIVATIONS.activate([event], store)
    [user] = store.virtual_users.users.values()
    with pytest.raises(NotFound):
        await change_virtual_user(store, 1002, user.id, permissions=["items"], active=None)
    with pytest.raises(InvalidRequest):
        await change_virtual_user(store, 1001, user.id, permissions=["nope"], active=None)
    with pytest.raises(InvalidRequest):
        await change_virtual_user(store, 1001, user.id, permissions=None, active=None)
    unchanged = await change_virtual_user(store, 1001, user.id, permissions=list(user.permissions), active=True)
    assert unchanged == user and store.emitted(VirtualUserChanged) == []
    disabled = await change_virtual_user(store, 1001, user.id, permissions=None, active=False)
    [changed] = store.emitted(VirtualUserChanged)
    assert isinstance(changed, VirtualUserChanged) and changed.active is False and disabled.version == user.version + 1
    await ACTIVATIONS.deactivate(removal(event), store)
    with pytest.raises(ActivationRemoved):
        await change_virtual_user(store, 1001, user.id, permissions=None, active=True)


async def test_rotation_mints_a_new_secret_under_a_new_event_id() -> None:
    store, event = FakeStore(), activated()
    await ACTIVATIONS.activate([event], store)
    [first] = provisioned(store)
    done = await ROTATION.rotate(store, 1001, event.activation_id, None)
    again = await ROTATION.rotate(store, 1001, event.activation_id, 0)
    rotations = [e for e in provisioned(store) if e.previous_secret_valid_until is not None]
    assert [r.previous_secret_valid_until for r in rotations] == [
        done.previous_secret_valid_until,
        again.previous_secret_valid_until,
    ]
    assert secret_rotated_id(event.activation_id, 2) in store.outbox
    assert secret_rotated_id(event.activation_id, 3) in store.outbox
    assert len({first.secret_hash, *(r.secret_hash for r in rotations)}) == 3
    assert all(r.delivery == event.delivery and r.permissions == first.permissions for r in rotations)
    assert [until is None for _, until in store.clients.secrets[first.client_id]] == [False, False, True]


async def test_rotation_refusals() -> None:
    store = FakeStore()
    public = activated(grant_type="authorization_code", client_type="public")
    confidential = activated()
    await ACTIVATIONS.activate([public, confidential], store)
    with pytest.raises(NoSecretToRotate):
        await ROTATION.rotate(store, 1001, public.activation_id, None)
    with pytest.raises(NotFound):
        await ROTATION.rotate(store, 1002, confidential.activation_id, None)
    with pytest.raises(InvalidRequest):
        await ROTATION.rotate(store, 1001, confidential.activation_id, 31 * 86_400)
    [user] = store.virtual_users.users.values()
    store.virtual_users.users[user.id] = replace(user, active=False)
    with pytest.raises(VirtualUserDisabled):
        await ROTATION.rotate(store, 1001, confidential.activation_id, None)
    await ACTIVATIONS.deactivate(removal(confidential), store)
    with pytest.raises(ActivationRemoved):
        await ROTATION.rotate(store, 1001, confidential.activation_id, None)
