"""Refusals as JSON bodies shaped like the platform's OAuth errors (RFC 6749 §5.2, RFC 6750 §3):
``{"error", "error_description"}``, plus ``fields`` naming each offending field on a 422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from vetgate_platform.http import AsciiJSONResponse

from vetgate_provisioning.domain.errors import Conflict, InvalidRequest, NotFound, ProvisioningError


def error_body(error: str, description: str, fields: list[dict[str, str]] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"error": error, "error_description": description}
    if fields is not None:
        body["fields"] = fields
    return body


async def _refused(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProvisioningError)
    if isinstance(exc, InvalidRequest):
        fields = [{"field": f.field, "message": f.message} for f in exc.fields]
        return JSONResponse(error_body(exc.code, str(exc), fields), status_code=422)
    status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400
    return JSONResponse(error_body(exc.code, str(exc)), status_code=status)


async def _malformed(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Locations and messages only: never echo the input back (it may be anything).
    fields = [
        {"field": ".".join(str(part) for part in e["loc"][1:]) or "body", "message": e["msg"]} for e in exc.errors()
    ]
    return AsciiJSONResponse(error_body("invalid_request", "the request is not valid", fields), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProvisioningError, _refused)
    app.add_exception_handler(RequestValidationError, _malformed)
