"""A tenant admin (or support) views and adjusts a virtual user's rights like any user's."""

from __future__ import annotations

import uuid

from vetgate_provisioning.domain.errors import ActivationRemoved, FieldError, InvalidRequest, NotFound
from vetgate_provisioning.domain.event_ids import virtual_user_changed_id
from vetgate_provisioning.domain.virtual_users import VirtualUser, requested_permissions
from vetgate_provisioning.service_layer.messages import virtual_user_changed
from vetgate_provisioning.service_layer.ports import Store


async def virtual_user(store: Store, provet_id: int, virtual_user_id: uuid.UUID) -> VirtualUser:
    user = await store.virtual_users.get(provet_id, virtual_user_id)
    if user is None:
        raise NotFound("no such virtual user at this tenant")
    return user


async def change_virtual_user(
    store: Store,
    provet_id: int,
    virtual_user_id: uuid.UUID,
    *,
    permissions: list[str] | None,
    active: bool | None,
) -> VirtualUser:
    """Apply the admin's change and tell the token service (VirtualUserChanged), unless nothing changed."""
    if permissions is None and active is None:
        raise InvalidRequest("nothing to change", [FieldError("body", "give permissions and/or active")])
    rights = None if permissions is None else requested_permissions(permissions)
    user = await store.virtual_users.get(provet_id, virtual_user_id, lock=True)
    if user is None:
        raise NotFound("no such virtual user at this tenant")
    if active:
        client = await store.clients.get(provet_id, user.activation_id)
        if client is None or client.revoked:
            raise ActivationRemoved("the application was removed from this tenant; add it again to enable its user")
    after = user.changed(permissions=rights, active=active)
    if after is None:
        return user
    await store.virtual_users.save([after])
    await store.emit([(virtual_user_changed(after), virtual_user_changed_id(after.id, after.version))])
    return after
