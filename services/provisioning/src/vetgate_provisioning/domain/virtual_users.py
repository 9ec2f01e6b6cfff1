"""The virtual user a client_credentials integration acts as, and its permission group.

Each (tenant, template) has one virtual user named ``Integration <name>`` with a permission group of
the same name. Its rights are managed like any user's: the template seeds them, the tenant admin may
adjust them, and a change of the template moves only the rights the template itself added or removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from vetgate_events.permissions import unknown_permissions

from vetgate_provisioning.domain.errors import FieldError, InvalidRequest


def virtual_user_name(integration_name: str) -> str:
    return f"Integration {integration_name}"


TenantTemplate = tuple[int, uuid.UUID]
"""(provet_id, template id): a tenant has one virtual user per template."""


@dataclass(frozen=True)
class NewVirtualUser:
    """What an activation asks for; an existing user of the same tenant and template is enabled instead."""

    provet_id: int
    template_id: uuid.UUID
    integration_name: str
    permissions: tuple[str, ...]
    client_id: str
    activation_id: uuid.UUID

    @property
    def key(self) -> TenantTemplate:
        return (self.provet_id, self.template_id)


@dataclass(frozen=True)
class VirtualUser:
    id: uuid.UUID
    provet_id: int
    template_id: uuid.UUID
    name: str
    group_name: str
    permissions: tuple[str, ...]
    active: bool
    client_id: str
    activation_id: uuid.UUID
    version: int
    """Bumped on every change; the id of the VirtualUserChanged it causes derives from it."""

    def changed(self, *, permissions: Iterable[str] | None = None, active: bool | None = None) -> VirtualUser | None:
        """The next version with these changes, or None when they change nothing."""
        new_permissions = self.permissions if permissions is None else tuple(permissions)
        new_active = self.active if active is None else active
        if new_permissions == self.permissions and new_active == self.active:
            return None
        return replace(self, permissions=new_permissions, active=new_active, version=self.version + 1)


def synced_permissions(current: Iterable[str], added: Iterable[str], removed: Iterable[str]) -> tuple[str, ...]:
    """The group's rights after the template added and removed some: the tenant's own changes to other
    rights survive. Order is kept (existing rights first), so an unchanged group compares equal."""
    withdrawn = set(removed)
    kept = [p for p in current if p not in withdrawn]
    granted = [p for p in dict.fromkeys(added) if p not in withdrawn and p not in kept]
    return tuple(kept + granted)


def requested_permissions(keys: list[str]) -> tuple[str, ...]:
    """A tenant admin's list of rights, checked against the permission catalogue (duplicates dropped)."""
    unknown = set(unknown_permissions(keys))
    if unknown:
        raise InvalidRequest(
            "unknown permission keys",
            [FieldError(f"permissions[{i}]", f"unknown permission {k!r}") for i, k in enumerate(keys) if k in unknown],
        )
    return tuple(dict.fromkeys(keys))
