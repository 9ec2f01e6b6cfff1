"""The catalogue API: support manages templates; tenant admins (and support) browse and add applications.

No ``from __future__ import annotations``: FastAPI resolves the route annotations at import time.
"""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from vetgate_authz import AccessToken, Authorizer
from vetgate_authz.fastapi import bearer_auth
from vetgate_events.common import ProvetId

from vetgate_catalogue.domain.templates import TemplateSpec
from vetgate_catalogue.entrypoints.schemas import (
    AddApplication,
    ApplicationOut,
    CatalogueItem,
    CatalogueOut,
    GoLiveOut,
    PublishRequest,
    RotationOut,
    RotationRequest,
    TemplateOut,
    TemplatePatch,
)
from vetgate_catalogue.service_layer.activations import Applications
from vetgate_catalogue.service_layer.errors import CatalogueError, FieldErrors
from vetgate_catalogue.service_layer.templates import Templates

STAFF_ROLES = ("admin", "support")


def build_router(
    templates: Templates, applications: Applications, authorizer: Authorizer, max_tenants: int
) -> APIRouter:
    router = APIRouter(prefix="/v1")
    Support = Annotated[AccessToken, Depends(bearer_auth(authorizer, role="support"))]
    Staff = Annotated[AccessToken, Depends(bearer_auth(authorizer, any_role=STAFF_ROLES))]
    # Browsing is for every user of the tenant (provet-reference.md), legacy API keys included.
    TenantUser = Annotated[AccessToken, Depends(bearer_auth(authorizer))]

    @router.post("/templates", status_code=201, response_model_exclude_none=True)
    async def create_template(spec: TemplateSpec, _: Support) -> TemplateOut:
        record, whsec = await templates.create(spec)
        return TemplateOut.of(record, whsec)

    @router.get("/templates", response_model_exclude_none=True)
    async def list_templates(_: Support) -> list[TemplateOut]:
        return [TemplateOut.of(r) for r in await templates.all()]

    @router.get("/templates/{template_id}", response_model_exclude_none=True)
    async def get_template(template_id: uuid.UUID, _: Support) -> TemplateOut:
        return TemplateOut.of(await templates.get(template_id))

    @router.patch("/templates/{template_id}", response_model_exclude_none=True)
    async def update_template(template_id: uuid.UUID, patch: TemplatePatch, _: Support) -> TemplateOut:
        record, whsec = await templates.update(template_id, patch.changes())
        return TemplateOut.of(record, whsec)

    @router.post("/templates/{template_id}/publish")
    async def publish(template_id: uuid.UUID, body: PublishRequest, _: Support) -> GoLiveOut:
        if len(body.tenants) > max_tenants:
            raise FieldErrors.one(("tenants",), f"at most {max_tenants} tenants per call")
        result = await templates.publish(template_id, body.tenants)
        return GoLiveOut(
            template=TemplateOut.of(result.template),
            activations=[ApplicationOut.of(a) for a in result.added],
            already_added=result.already_added,
        )

    @router.post("/templates/{template_id}/unpublish", response_model_exclude_none=True)
    async def unpublish(template_id: uuid.UUID, _: Support) -> TemplateOut:
        return TemplateOut.of(await templates.unpublish(template_id))

    @router.post("/templates/{template_id}/webhook-secret/rotations", status_code=201)
    async def rotate_webhook_secret(template_id: uuid.UUID, body: RotationRequest, _: Support) -> RotationOut:
        overlap = None if body.overlap_seconds is None else timedelta(seconds=body.overlap_seconds)
        fresh = await templates.rotate_webhook_secret(template_id, overlap)
        return RotationOut(webhook_secret=fresh.value, previous_secret_valid_until=fresh.previous_valid_until)

    @router.get("/tenants/{provet_id}/catalogue")
    async def browse(provet_id: ProvetId, _: TenantUser) -> CatalogueOut:
        entries = await applications.catalogue(provet_id)
        return CatalogueOut(provet_id=provet_id, integrations=[CatalogueItem.of(e) for e in entries])

    @router.post("/tenants/{provet_id}/applications", status_code=202)
    async def add_application(provet_id: ProvetId, body: AddApplication, _: Staff) -> ApplicationOut:
        return ApplicationOut.of(await applications.add(provet_id, body.template_id))

    @router.get("/tenants/{provet_id}/applications")
    async def list_applications(provet_id: ProvetId, _: Staff) -> list[ApplicationOut]:
        return [ApplicationOut.of(a) for a in await applications.of_tenant(provet_id)]

    @router.get("/tenants/{provet_id}/applications/{activation_id}")
    async def get_application(provet_id: ProvetId, activation_id: uuid.UUID, _: Staff) -> ApplicationOut:
        return ApplicationOut.of(await applications.get(provet_id, activation_id))

    @router.delete("/tenants/{provet_id}/applications/{activation_id}", status_code=202)
    async def remove_application(provet_id: ProvetId, activation_id: uuid.UUID, _: Staff) -> ApplicationOut:
        return ApplicationOut.of(await applications.remove(provet_id, activation_id))

    return router


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CatalogueError)
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)


async def _field_errors(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FieldErrors)
    return JSONResponse({"detail": exc.errors}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CatalogueError, _refusal)
    app.add_exception_handler(FieldErrors, _field_errors)
