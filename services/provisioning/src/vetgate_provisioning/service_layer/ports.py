"""What the service layer needs from storage, as protocols: Postgres in production, fakes in unit tests.

Every method runs in the caller's transaction, together with the events staged by :meth:`Store.emit`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from vetgate_events import IntegrationEvent

from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.domain.template_changes import TemplateChange
from vetgate_provisioning.domain.virtual_users import NewVirtualUser, TenantTemplate, VirtualUser

ActivationKey = tuple[uuid.UUID, int, uuid.UUID]
"""(activation id, provet_id, template id)"""


class ClientRepository(Protocol):
    async def claim_activations(self, activations: Sequence[ActivationKey]) -> set[uuid.UUID]:
        """Record the activations; the ids not seen before (a provisioned or removed one is not claimed)."""

    async def add(self, clients: Sequence[tuple[Client, str | None]]) -> None:
        """Store new clients, each with the hash of its first secret when it has one."""

    async def get(self, provet_id: int, activation_id: uuid.UUID, *, lock: bool = False) -> Client | None: ...

    async def end_activation(self, activation_id: uuid.UUID, provet_id: int, template_id: uuid.UUID) -> Client | None:
        """Mark the activation removed; its client if this call revoked one, None if there was nothing to do.

        An activation never seen is remembered as removed, so a late copy of it provisions nothing."""

    async def rotate_secret(self, client_id: str, secret_hash: str, previous_valid_until: datetime) -> int:
        """Store the new secret's hash, end the current one at ``previous_valid_until``; the new generation."""


class VirtualUserRepository(Protocol):
    async def enable(self, users: Sequence[NewVirtualUser]) -> dict[TenantTemplate, VirtualUser]:
        """Create each tenant's virtual user for the template, or enable the existing one (its rights kept).

        At most one entry per (tenant, template) in one call."""

    async def get(self, provet_id: int, virtual_user_id: uuid.UUID, *, lock: bool = False) -> VirtualUser | None: ...

    async def of_tenant(self, provet_id: int) -> list[VirtualUser]: ...

    async def of_template(self, template_id: uuid.UUID) -> list[VirtualUser]:
        """Every tenant's virtual user for the template, locked for update."""

    async def save(self, users: Sequence[VirtualUser]) -> None:
        """Write the rights, state and version of changed users."""

    async def disable_for_activation(self, activation_id: uuid.UUID) -> None:
        """Disable the virtual user that currently serves this activation (if it still does)."""


class TemplateChangeRepository(Protocol):
    async def record(self, change: TemplateChange) -> None: ...

    async def since(self, template_ids: Collection[uuid.UUID], after: datetime) -> list[TemplateChange]:
        """The changes of these templates made after ``after``, oldest first."""


class Store(Protocol):
    @property
    def clients(self) -> ClientRepository: ...

    @property
    def virtual_users(self) -> VirtualUserRepository: ...

    @property
    def template_changes(self) -> TemplateChangeRepository: ...

    async def emit(self, events: Sequence[tuple[IntegrationEvent, uuid.UUID]]) -> None:
        """Stage ``(event, event id)`` pairs in the outbox of the current transaction."""
