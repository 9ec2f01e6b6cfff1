"""The HTTP shell every service shares: health, readiness with reasons, metrics, correlation ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
from prometheus_client import REGISTRY
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from vetgate_platform.http import ReadinessCheck, create_service_app


async def ok() -> None:
    return None


async def broken() -> None:
    raise ConnectionRefusedError("database down")


def client_for(*checks: ReadinessCheck) -> httpx.AsyncClient:
    app = create_service_app("shelltest", checks)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_readyz_names_the_failing_dependency_and_healthz_stays_up() -> None:
    async with client_for(ReadinessCheck("database", broken), ReadinessCheck("kafka", ok)) as http:
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not_ready",
        "checks": {"database": "unavailable: ConnectionRefusedError", "kafka": "ok"},
    }
    assert health.status_code == 200


async def test_correlation_id_is_echoed_or_minted_and_requests_are_counted() -> None:
    before = (
        REGISTRY.get_sample_value(
            "vetgate_http_requests_total", {"service": "shelltest", "method": "GET", "status": "200"}
        )
        or 0
    )
    async with client_for(ReadinessCheck("kafka", ok)) as http:
        given = await http.get("/healthz", headers={"x-correlation-id": "abc-123"})
        minted = await http.get("/readyz")
        metrics = await http.get("/metrics")
    assert given.headers["x-correlation-id"] == "abc-123"
    assert len(minted.headers["x-correlation-id"]) == 32
    after = REGISTRY.get_sample_value(
        "vetgate_http_requests_total", {"service": "shelltest", "method": "GET", "status": "200"}
    )
    assert after == before + 3  # healthz, readyz and metrics itself
    assert "vetgate_http_request_seconds_bucket" in metrics.text


async def test_bodies_over_the_limit_are_refused_whether_declared_or_chunked() -> None:
    app = create_service_app("limittest", [], max_request_bytes=1000)

    @app.post("/json")
    async def json_route(payload: dict[str, str]) -> dict[str, int]:
        return {"fields": len(payload)}

    async def form_route(request: Request) -> Response:
        return Response(str(len(await request.body())))

    app.router.routes.append(Route("/raw", form_route, methods=["POST"]))

    async def chunked(size: int) -> AsyncIterator[bytes]:
        for _ in range(size // 100):
            yield b"x" * 100

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as http:
        small = await http.post("/json", json={"a": "b"})
        refused = {
            "declared json": await http.post("/json", content=b"x" * 1001),
            "declared raw": await http.post("/raw", content=b"x" * 1001),
            "chunked json": await http.post("/json", content=chunked(2000)),
            "chunked raw": await http.post("/raw", content=chunked(2000)),
        }
        at_limit = await http.post("/raw", content=chunked(1000))
    assert small.status_code == 200 and at_limit.text == "1000"
    for case, response in refused.items():
        assert response.status_code == 413, (case, response.text)
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "The request body exceeds 1000 bytes",
        }, case


async def test_field_errors_name_the_field_and_never_echo_the_input() -> None:
    app = create_service_app("fieldtest", [])

    @app.post("/things")
    async def create(thing: dict[str, uuid.UUID]) -> dict[str, int]:
        return {"things": len(thing)}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as http:
        secret = await http.post("/things", json={"id": "s3cr3t-not-a-uuid"})
        # A lone surrogate (valid JSON, no valid UTF-8): quoting it back used to make rendering fail, a 500.
        surrogate = await http.post(
            "/things", content=b'{"id": "\\ud800"}', headers={"content-type": "application/json"}
        )
    for answer in (secret, surrogate):
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "id"]
        assert "input" not in answer.json()["detail"][0]
    assert "s3cr3t" not in secret.text
