"""The API-key admin API: keys per tenant, support exceptions, the retirement policy, revocation, report.

No ``from __future__ import annotations``: FastAPI resolves the route annotations at import time.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse, Response
from vetgate_events.common import ProvetId

from vetgate_token.domain.api_keys import Environment, RetirementPolicy
from vetgate_token.entrypoints.api_key_schemas import (
    EnvironmentIn,
    NewApiKey,
    NewException,
    PolicyIn,
    RevocationRequest,
    UsageReport,
    jsonable,
    key_out,
    policy_out,
)
from vetgate_token.entrypoints.callers import Caller, caller_dependency
from vetgate_token.entrypoints.components import OAuthComponents
from vetgate_token.service_layer import api_keys as keys_model
from vetgate_token.service_layer.api_keys import CreationDisabled
from vetgate_token.service_layer.key_retirement import KeyRetirement
from vetgate_token.service_layer.migration_report import migration_report

NO_STORE = {"Cache-Control": "no-store"}


def build_router(oauth: OAuthComponents, retirement: KeyRetirement) -> APIRouter:
    router = APIRouter(prefix="/v1")
    keys, usage = oauth.api_keys, oauth.key_usage
    Staff = Annotated[Caller, Depends(caller_dependency(oauth, support_only=False))]
    Support = Annotated[Caller, Depends(caller_dependency(oauth, support_only=True))]

    @router.post("/tenants/{provet_id}/api-keys", status_code=201)
    async def create_key(provet_id: ProvetId, body: NewApiKey, caller: Staff) -> Response:
        try:
            record, key = await keys.create(
                provet_id,
                name=body.name,
                integration=body.integration,
                owner_email=body.owner_email,
                actor=caller.client_id,
            )
        except CreationDisabled as refusal:
            return JSONResponse({"error": "api_key_creation_disabled", "error_description": str(refusal)}, 403)
        return JSONResponse({**key_out(record), "key": key}, 201, NO_STORE)

    @router.get("/tenants/{provet_id}/api-keys")
    async def list_keys(provet_id: ProvetId, caller: Staff) -> dict[str, Any]:
        return {"keys": [key_out(k) for k in await keys.keys_of(provet_id)]}

    @router.post("/tenants/{provet_id}/api-key-exceptions", status_code=201)
    async def grant_exception(provet_id: ProvetId, body: NewException, caller: Support) -> dict[str, Any]:
        granted = await keys.grant_exception(
            provet_id, reason=body.reason, expires_at=body.expires_at, actor=caller.client_id
        )
        return jsonable(granted)

    @router.get("/tenants/{provet_id}/api-key-exceptions")
    async def list_exceptions(provet_id: ProvetId, caller: Support) -> dict[str, Any]:
        return {"exceptions": [jsonable(e) for e in await keys.exceptions_of(provet_id)]}

    @router.get("/tenants/{provet_id}/environment")
    async def get_environment(provet_id: ProvetId, caller: Support) -> dict[str, Any]:
        async with oauth.engine.connect() as conn:
            return {"provet_id": provet_id, "environment": await keys_model.environment_of(conn, provet_id)}

    @router.put("/tenants/{provet_id}/environment")
    async def put_environment(provet_id: ProvetId, body: EnvironmentIn, caller: Support) -> dict[str, Any]:
        async with oauth.engine.begin() as conn:
            await keys_model.set_environment(conn, provet_id, body.environment)
        keys_model.audit.info(
            "tenant environment set", actor=caller.client_id, provet_id=provet_id, environment=body.environment
        )
        return {"provet_id": provet_id, "environment": body.environment}

    @router.get("/api-key-policies")
    async def list_policies(caller: Support) -> dict[str, Any]:
        async with oauth.engine.connect() as conn:
            return {"policies": [policy_out(await keys_model.load_policy(conn, e)) for e in ("production", "sandbox")]}

    @router.put("/api-key-policies/{environment}")
    async def put_policy(environment: Environment, body: PolicyIn, caller: Support) -> dict[str, Any]:
        policy = RetirementPolicy(
            environment, body.creation_cutoff, body.revocation_deadline, tuple(body.reminder_days)
        )
        async with oauth.engine.begin() as conn:
            await keys_model.save_policy(conn, policy, caller.client_id)
            saved = await keys_model.load_policy(conn, environment)
        retirement.wake()  # a deadline moved into the past is acted on now, not at the next check
        return policy_out(saved)

    @router.post("/api-keys/revocations")
    async def revoke_keys(body: RevocationRequest, caller: Support) -> Response:
        planned = [key_out(k) for k in await retirement.plan(body.environment)]
        answer: dict[str, Any] = {"dry_run": body.dry_run, "environment": body.environment, "count": len(planned)}
        if body.dry_run:
            return JSONResponse({**answer, "keys": planned})
        scope = body.environment or "every"
        job_id = await retirement.start(
            body.environment, reason=f"revoked by support ({scope} environment)", actor=caller.client_id
        )
        location = {"Location": f"/v1/api-keys/revocations/{job_id}"}
        return JSONResponse({**answer, "job_id": job_id, "keys": planned}, 202, location)

    @router.get("/api-keys/revocations")
    async def revocation_jobs(caller: Support) -> dict[str, Any]:
        return {"jobs": [{**jsonable(j), "finished": j["finished_at"] is not None} for j in await retirement.jobs()]}

    @router.get("/api-keys/revocations/{job_id}")
    async def revocation_job(job_id: str, caller: Support) -> dict[str, Any]:
        job = await retirement.job(job_id) if _is_uuid(job_id) else None
        if job is None:
            raise HTTPException(404, "no such revocation job")
        return {**jsonable(job), "finished": job["finished_at"] is not None}

    @router.get("/api-keys/migration-report")
    async def report(
        caller: Support, environment: Environment | None = None, active_only: bool = False
    ) -> dict[str, Any]:
        rows = await migration_report(oauth.engine, environment=environment, active_only=active_only)
        return {"generated_at": datetime.now().astimezone().isoformat(), "rows": [jsonable(r) for r in rows]}

    @router.post("/api-keys/usage", status_code=202)
    async def report_usage(body: UsageReport, caller: Support) -> dict[str, Any]:
        for use in body.uses:
            usage.record(str(use.api_key_id), use.count, use.last_used_at)
        return {"accepted": len(body.uses)}

    return router


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
