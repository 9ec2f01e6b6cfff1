"""A template's permission change reaches every tenant's group for that template.

Only the delta moves (rights the template added are granted, rights it removed are withdrawn), so a
tenant admin's own changes to other rights survive. A group that already matches emits nothing, which
also makes a replay of the same change a no-op.
"""

from __future__ import annotations

from vetgate_events.catalogue import TemplatePermissionsChanged
from vetgate_platform.logs import get_logger

from vetgate_provisioning.domain.event_ids import virtual_user_changed_id
from vetgate_provisioning.domain.template_changes import TemplateChange
from vetgate_provisioning.domain.virtual_users import synced_permissions
from vetgate_provisioning.service_layer.messages import virtual_user_changed
from vetgate_provisioning.service_layer.ports import Store

log = get_logger(__name__)


async def sync_template_permissions(event: TemplatePermissionsChanged, store: Store) -> int:
    """Apply the change to every tenant's group; returns how many virtual users changed."""
    await store.template_changes.record(
        TemplateChange(event.template_id, event.changed_at, tuple(event.added), tuple(event.removed))
    )
    changed = []
    for user in await store.virtual_users.of_template(event.template_id):
        after = user.changed(permissions=synced_permissions(user.permissions, event.added, event.removed))
        if after is not None:
            changed.append(after)
    await store.virtual_users.save(changed)
    await store.emit([(virtual_user_changed(u), virtual_user_changed_id(u.id, u.version)) for u in changed])
    log.info("template permissions synced", template_id=str(event.template_id), virtual_users=len(changed))
    return len(changed)
