"""An in-memory Store for the service layer's unit tests (a fake of our own ports, not a mock)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from vetgate_events import IntegrationEvent
from vetgate_events.catalogue import IntegrationActivated
from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.domain.template_changes import TemplateChange
from vetgate_provisioning.domain.virtual_users import NewVirtualUser, TenantTemplate, VirtualUser, virtual_user_name
from vetgate_provisioning.service_layer.ports import ActivationKey


@dataclass
class FakeClients:
    activations: dict[uuid.UUID, str] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    secrets: dict[str, list[tuple[str, datetime | None]]] = field(default_factory=dict)

    async def claim_activations(self, keys: Sequence[ActivationKey]) -> set[uuid.UUID]:
        claimed = set()
        for activation_id, _, _ in keys:
            if activation_id not in self.activations:
                self.activations[activation_id] = "active"
                claimed.add(activation_id)
        return claimed

    async def add(self, clients: Sequence[tuple[Client, str | None]]) -> None:
        for client, secret_hash in clients:
            self.clients[client.client_id] = client
            self.secrets[client.client_id] = [(secret_hash, None)] if secret_hash else []

    async def get(self, provet_id: int, activation_id: uuid.UUID, *, lock: bool = False) -> Client | None:
        return next(
            (c for c in self.clients.values() if c.activation_id == activation_id and c.provet_id == provet_id), None
        )

    async def end_activation(self, activation_id: uuid.UUID, provet_id: int, template_id: uuid.UUID) -> Client | None:
        if self.activations.get(activation_id) != "active":
            self.activations.setdefault(activation_id, "removed")
            return None
        self.activations[activation_id] = "removed"
        client = next(c for c in self.clients.values() if c.activation_id == activation_id)
        self.clients[client.client_id] = replace(client, revoked=True)
        return self.clients[client.client_id]

    async def rotate_secret(self, client_id: str, secret_hash: str, previous_valid_until: datetime) -> int:
        stored = self.secrets[client_id]
        stored[:] = [(h, until or previous_valid_until) for h, until in stored] + [(secret_hash, None)]
        return len(stored)


@dataclass
class FakeVirtualUsers:
    users: dict[uuid.UUID, VirtualUser] = field(default_factory=dict)

    async def enable(self, users: Sequence[NewVirtualUser]) -> dict[TenantTemplate, VirtualUser]:
        assert len({u.key for u in users}) == len(users), "one per (tenant, template) per call, as the port says"
        enabled = {}
        for new in users:
            existing = next((u for u in self.users.values() if (u.provet_id, u.template_id) == new.key), None)
            if existing is None:
                name = virtual_user_name(new.integration_name)
                user = VirtualUser(
                    uuid.uuid4(), new.provet_id, new.template_id, name, name, new.permissions, True,
                    new.client_id, new.activation_id, 1,
                )  # fmt: skip
            else:
                user = replace(
                    existing,
                    active=True,
                    client_id=new.client_id,
                    activation_id=new.activation_id,
                    version=existing.version + 1,
                )
            self.users[user.id] = user
            enabled[new.key] = user
        return enabled

    async def get(self, provet_id: int, virtual_user_id: uuid.UUID, *, lock: bool = False) -> VirtualUser | None:
        user = self.users.get(virtual_user_id)
        return user if user is not None and user.provet_id == provet_id else None

    async def of_tenant(self, provet_id: int) -> list[VirtualUser]:
        return [u for u in self.users.values() if u.provet_id == provet_id]

    async def of_template(self, template_id: uuid.UUID) -> list[VirtualUser]:
        return [u for u in self.users.values() if u.template_id == template_id]

    async def save(self, users: Sequence[VirtualUser]) -> None:
        for user in users:
            self.users[user.id] = user

    async def disable_for_activation(self, activation_id: uuid.UUID) -> None:
        for user in list(self.users.values()):
            if user.activation_id == activation_id and user.active:
                self.users[user.id] = replace(user, active=False, version=user.version + 1)


@dataclass
class FakeTemplateChanges:
    changes: dict[tuple[uuid.UUID, datetime], TemplateChange] = field(default_factory=dict)

    async def record(self, change: TemplateChange) -> None:
        self.changes.setdefault((change.template_id, change.changed_at), change)

    async def since(self, template_ids: Collection[uuid.UUID], after: datetime) -> list[TemplateChange]:
        found = [c for c in self.changes.values() if c.template_id in template_ids and c.changed_at > after]
        return sorted(found, key=lambda c: c.changed_at)


@dataclass
class FakeStore:
    clients: FakeClients = field(default_factory=FakeClients)
    virtual_users: FakeVirtualUsers = field(default_factory=FakeVirtualUsers)
    template_changes: FakeTemplateChanges = field(default_factory=FakeTemplateChanges)
    outbox: dict[uuid.UUID, IntegrationEvent] = field(default_factory=dict)

    async def emit(self, events: Sequence[tuple[IntegrationEvent, uuid.UUID]]) -> None:
        for event, event_id in events:
            self.outbox.setdefault(event_id, event)  # an id is staged once, like the real outbox

    def emitted(self, event_cls: type[IntegrationEvent]) -> list[IntegrationEvent]:
        return [e for e in self.outbox.values() if isinstance(e, event_cls)]


def activated(provet_id: int = 1001, **overrides: object) -> IntegrationActivated:
    fields: dict[str, object] = {
        "activation_id": uuid.uuid4(),
        "template_id": uuid.uuid4(),
        "provet_id": provet_id,
        "integration_name": "Reminders",
        "grant_type": "client_credentials",
        "client_type": "confidential",
        "permissions": ["patients-clients", "reminder"],
        "delivery": {"kind": "email", "address": "owner@example.com"},
        "activated_at": datetime.now(UTC),
    }
    return IntegrationActivated.model_validate(fields | overrides)
