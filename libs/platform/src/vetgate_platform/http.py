"""The FastAPI shell every service shares: /healthz, /readyz, /metrics and request logging."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from vetgate_platform.logs import get_logger

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


def create_service_app(
    service: str,
    checks: Sequence[ReadinessCheck],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    **fastapi_kwargs: object,
) -> FastAPI:
    app = FastAPI(title=f"Vetgate {service}", lifespan=lifespan, **fastapi_kwargs)  # type: ignore[arg-type]

    @app.middleware("http")
    async def correlate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(
            correlation_id=correlation_id, traceparent=request.headers.get("traceparent")
        )
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "traceparent")
        HTTP_REQUESTS.labels(service, request.method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method).observe(time.perf_counter() - started)
        response.headers["x-correlation-id"] = correlation_id
        return response

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
