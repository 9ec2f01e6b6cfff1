"""The FastAPI shell every service shares: /healthz, /readyz, /metrics, request logging, a body limit, and
refusals for values the database cannot store."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vetgate_platform.logs import get_logger
from vetgate_platform.settings import MAX_REQUEST_BYTES

log = get_logger(__name__)

HTTP_REQUESTS = Counter("vetgate_http_requests_total", "HTTP requests", ["service", "method", "status"])
HTTP_LATENCY = Histogram("vetgate_http_request_seconds", "HTTP request latency", ["service", "method"])


@dataclass(frozen=True)
class ReadinessCheck:
    """A dependency /readyz waits for; ``probe`` raises (or times out) when it is unreachable."""

    name: str
    probe: Callable[[], Awaitable[None]]
    timeout: float = 2.0


async def _run_check(check: ReadinessCheck) -> tuple[str, str]:
    try:
        await asyncio.wait_for(check.probe(), check.timeout)
    except Exception as exc:  # any failure means "not ready"; the reason goes to the body, not a 500
        return check.name, f"unavailable: {type(exc).__name__}"
    return check.name, "ok"


class CorrelationMiddleware:
    """Correlation id, trace context and request metrics — as plain ASGI: Starlette's
    ``@app.middleware("http")`` costs about a millisecond per request, more than issuing a token."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # prometheus_client's labels() takes a lock and builds a key per call: keep each labelled child.
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = headers.get("x-correlation-id") or secrets.token_hex(16)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-correlation-id", correlation_id.encode()))
            await send(message)

        with structlog.contextvars.bound_contextvars(
            correlation_id=correlation_id, traceparent=headers.get("traceparent")
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._labelled(HTTP_LATENCY, scope["method"]).observe(time.perf_counter() - started)
                self._labelled(HTTP_REQUESTS, scope["method"], str(status)).inc()

    def _labelled(self, metric: Any, *labels: str) -> Any:
        child = self._children.get((metric, labels))
        if child is None:
            child = self._children[metric, labels] = metric.labels(self.service, *labels)
        return child


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: an answer that quotes what a client sent (a message
    naming the character it stumbled on) must render even when that is a lone surrogate, which UTF-8 cannot
    encode and the default rendering turned into a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


def refusal(status: int, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``invalid_request`` in the shape of all our refusals, which is RFC 6749 §5.2's (the OAuth endpoints
    must answer in it anyway). ``description`` never repeats what the client sent."""
    return JSONResponse({"error": "invalid_request", "error_description": description}, status, headers)


class RequestTooLarge(HTTPException):
    """A body sent without a declared length grew past the limit while the app was reading it.

    An HTTPException because FastAPI re-raises those from body parsing (any other exception becomes its
    generic 400), so the app's handler for this class answers, as for a declared length over the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes")

    def response(self) -> JSONResponse:
        # Connection: close, because the unread rest of the body is not worth receiving to keep the connection.
        return refusal(413, self.detail, {"Connection": "close"})


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes: at once when Content-Length says so, else as they arrive.

    A declared length is enforced by the server itself (it never delivers more), so those requests, all
    but chunked ones, pass through with no wrapper around ``receive``."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
        if declared.isdigit():  # servers refuse malformed ones; any other is counted below like chunks
            if int(declared) > self.limit:
                await RequestTooLarge(self.limit).response()(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise RequestTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


async def _request_too_large(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestTooLarge)
    return exc.response()


def refused_value(exc: DBAPIError) -> BaseException | None:
    """The driver's error when the database refused a value of the request rather than failed: text with a
    NUL character, a number beyond its column, anything a client can send and no validator thought of.

    That is PostgreSQL's class 22 "data exception", or asyncpg's own check of an argument before sending it
    (an InterfaceError that is also a ValueError: "invalid input for query argument")."""
    cause: BaseException | None = exc.orig.__cause__ if exc.orig is not None else None
    refused = isinstance(cause, asyncpg.exceptions.DataError) or (
        isinstance(cause, asyncpg.exceptions.InterfaceError) and isinstance(cause, ValueError)
    )
    return cause if refused else None


async def _unstorable_value(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    cause = refused_value(exc)
    if cause is None:
        raise exc  # a failure of ours: the server error middleware logs it and answers 500
    log.info("request refused: a value the database cannot store", error=type(cause).__name__)  # no value
    return refusal(400, "A value in the request cannot be stored (a NUL character, or a number out of range)")


async def _field_errors(_: Request, exc: Exception) -> Response:
    """FastAPI's 422 with field errors, minus the ``input`` it echoes: the field may hold a secret, and no
    error message of ours repeats one."""
    assert isinstance(exc, RequestValidationError)
    detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return AsciiJSONResponse({"detail": detail}, 422)


def create_service_app(
    service: str,
    checks: Sequence[ReadinessCheck],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    **fastapi_kwargs: object,
) -> FastAPI:
    app = FastAPI(title=f"Vetgate {service}", lifespan=lifespan, **fastapi_kwargs)  # type: ignore[arg-type]

    app.add_middleware(BodyLimitMiddleware, limit=max_request_bytes)
    app.add_middleware(CorrelationMiddleware, service=service)
    app.add_exception_handler(RequestTooLarge, _request_too_large)
    app.add_exception_handler(DBAPIError, _unstorable_value)
    app.add_exception_handler(RequestValidationError, _field_errors)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results = dict(await asyncio.gather(*(_run_check(c) for c in checks)))
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results}, status_code=200 if ready else 503
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
