"""A template's permission change, as each tenant's group applies it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from vetgate_provisioning.domain.virtual_users import synced_permissions


@dataclass(frozen=True)
class TemplateChange:
    template_id: uuid.UUID
    changed_at: datetime
    added: tuple[str, ...]
    removed: tuple[str, ...]


def rights_at_provisioning(
    template_id: uuid.UUID, granted: Iterable[str], activated_at: datetime, changes: Iterable[TemplateChange]
) -> tuple[str, ...]:
    """The rights an activation's event carries, moved by the template's changes made after it was issued
    (they travel on another topic, so the sync may have run before this activation was handled)."""
    rights = tuple(granted)
    for change in sorted(changes, key=lambda c: c.changed_at):
        if change.template_id == template_id and change.changed_at > activated_at:
            rights = synced_permissions(rights, change.added, change.removed)
    return rights
