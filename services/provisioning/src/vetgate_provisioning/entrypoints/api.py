"""The virtual-user admin API and secret rotation: tenant admins for their own tenant, support for all.

``bearer_auth`` refuses a token of another tenant (support's crosses tenants by design), so every query
below is also scoped by the ``provet_id`` of the path: an id from another tenant is simply not found.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Body, Depends, status
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_authz import Authorizer
from vetgate_authz.fastapi import bearer_auth
from vetgate_events.common import ProvetId

from vetgate_provisioning.adapters.store import PostgresStore
from vetgate_provisioning.domain.errors import NotFound
from vetgate_provisioning.entrypoints.schemas import (
    RotationAccepted,
    RotationRequest,
    VirtualUserChange,
    VirtualUserList,
    VirtualUserView,
)
from vetgate_provisioning.service_layer.rotation import SecretRotation
from vetgate_provisioning.service_layer.virtual_user_admin import change_virtual_user, virtual_user

ADMIN_ROLES = ("admin", "support")


@dataclass(frozen=True)
class ApiComponents:
    engine: AsyncEngine
    authorizer: Authorizer
    source: str
    rotation: SecretRotation

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresStore]:
        async with self.engine.begin() as conn:
            yield PostgresStore(conn, self.source)


def _id(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no such {what} at this tenant") from None


def build_router(c: ApiComponents) -> APIRouter:
    staff = Depends(bearer_auth(c.authorizer, any_role=ADMIN_ROLES))
    router = APIRouter(prefix="/v1/tenants/{provet_id}", tags=["virtual users"], dependencies=[staff])

    @router.get("/virtual-users")
    async def list_virtual_users(provet_id: ProvetId) -> VirtualUserList:
        async with c.transaction() as store:
            users = await store.virtual_users.of_tenant(provet_id)
        return VirtualUserList(virtual_users=[VirtualUserView.of(u) for u in users])

    @router.get("/virtual-users/{virtual_user_id}")
    async def get_virtual_user(provet_id: ProvetId, virtual_user_id: str) -> VirtualUserView:
        async with c.transaction() as store:
            user = await virtual_user(store, provet_id, _id(virtual_user_id, "virtual user"))
        return VirtualUserView.of(user)

    @router.patch("/virtual-users/{virtual_user_id}")
    async def patch_virtual_user(
        provet_id: ProvetId, virtual_user_id: str, change: VirtualUserChange
    ) -> VirtualUserView:
        async with c.transaction() as store:
            user = await change_virtual_user(
                store,
                provet_id,
                _id(virtual_user_id, "virtual user"),
                permissions=change.permissions,
                active=change.active,
            )
        return VirtualUserView.of(user)

    @router.post("/applications/{activation_id}/secret-rotations", status_code=status.HTTP_202_ACCEPTED)
    async def rotate_secret(
        provet_id: ProvetId,
        activation_id: str,
        request: Annotated[RotationRequest | None, Body()] = None,
    ) -> RotationAccepted:
        overlap = request.overlap_seconds if request else None
        async with c.transaction() as store:
            rotated = await c.rotation.rotate(store, provet_id, _id(activation_id, "application"), overlap)
        return RotationAccepted(
            client_id=rotated.client_id, previous_secret_valid_until=rotated.previous_secret_valid_until
        )

    return router
