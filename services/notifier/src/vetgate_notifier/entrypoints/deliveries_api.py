"""The delivery log API: every delivery and attempt, manual redelivery and bulk recovery.

Tenant routes (``/v1/tenants/{provet_id}/…``) serve the tenant's admin and support; the support-wide
routes (``/v1/deliveries…``) cross tenants and are for support only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_authz import Authorizer
from vetgate_authz.fastapi import bearer_auth
from vetgate_events.common import ProvetId

from vetgate_notifier.adapters.delivery_log import DeliveryLog, scope
from vetgate_notifier.adapters.ledger import Ledger
from vetgate_notifier.adapters.tables import deliveries

Status = Literal["pending", "delivered", "failed"]
Limit = Annotated[int, Query(ge=1, le=500)]


class RecoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime
    provet_id: ProvetId | None = None


def build_router(engine: AsyncEngine, ledger: Ledger, log: DeliveryLog, authorizer: Authorizer) -> APIRouter:
    router = APIRouter()
    tenant_staff = Depends(bearer_auth(authorizer, any_role=("admin", "support")))
    support = Depends(bearer_auth(authorizer, role="support"))

    async def listing(
        provet_id: int | None, status: Status | None, since: datetime | None, before: datetime | None, limit: int
    ) -> Any:
        """Newest first; pass the last ``created_at`` as ``before`` for the next page."""
        return {"deliveries": await log.list(provet_id, status=status, since=since, before=before, limit=limit)}

    async def one(provet_id: int | None, delivery_id: uuid.UUID) -> Any:
        found = await log.get(provet_id, delivery_id)
        if found is None:
            raise HTTPException(404, "no such delivery")
        return found

    async def redeliver(provet_id: int | None, delivery_id: uuid.UUID) -> JSONResponse:
        async with engine.begin() as conn:
            row = await ledger.status_of(conn, delivery_id)
            if row is None or (provet_id is not None and row.provet_id != provet_id):
                raise HTTPException(404, "no such delivery")
            restarted = await ledger.redeliver(conn, scope(provet_id, delivery_id))
        return JSONResponse({"delivery_id": str(delivery_id), "queued": bool(restarted)}, 202)

    async def recover(provet_id: int | None, since: datetime) -> JSONResponse:
        d = deliveries.c
        async with engine.begin() as conn:
            ids = await ledger.redeliver(conn, scope(provet_id) & (d.status == "failed") & (d.failed_at >= since))
        return JSONResponse({"recovered": len(ids), "delivery_ids": [str(i) for i in ids]}, 202)

    @router.get("/v1/tenants/{provet_id}/deliveries", dependencies=[tenant_staff])
    async def tenant_deliveries(
        provet_id: ProvetId,
        status: Status | None = None,
        since: AwareDatetime | None = None,
        before: AwareDatetime | None = None,
        limit: Limit = 100,
    ) -> Any:
        return await listing(provet_id, status, since, before, limit)

    @router.get("/v1/tenants/{provet_id}/deliveries/{delivery_id}", dependencies=[tenant_staff])
    async def tenant_delivery(provet_id: ProvetId, delivery_id: uuid.UUID) -> Any:
        return await one(provet_id, delivery_id)

    @router.post("/v1/tenants/{provet_id}/deliveries/{delivery_id}/redeliver", dependencies=[tenant_staff])
    async def tenant_redeliver(provet_id: ProvetId, delivery_id: uuid.UUID) -> JSONResponse:
        return await redeliver(provet_id, delivery_id)

    @router.post("/v1/tenants/{provet_id}/deliveries/recover", dependencies=[tenant_staff])
    async def tenant_recover(provet_id: ProvetId, body: RecoverRequest) -> JSONResponse:
        return await recover(provet_id, body.since)

    @router.get("/v1/deliveries", dependencies=[support])
    async def all_deliveries(
        provet_id: ProvetId | None = None,
        status: Status | None = None,
        since: AwareDatetime | None = None,
        before: AwareDatetime | None = None,
        limit: Limit = 100,
    ) -> Any:
        return await listing(provet_id, status, since, before, limit)

    @router.get("/v1/deliveries/{delivery_id}", dependencies=[support])
    async def any_delivery(delivery_id: uuid.UUID) -> Any:
        return await one(None, delivery_id)

    @router.post("/v1/deliveries/{delivery_id}/redeliver", dependencies=[support])
    async def any_redeliver(delivery_id: uuid.UUID) -> JSONResponse:
        return await redeliver(None, delivery_id)

    @router.post("/v1/deliveries/recover", dependencies=[support])
    async def recover_all(body: RecoverRequest) -> JSONResponse:
        return await recover(body.provet_id, body.since)

    return router
