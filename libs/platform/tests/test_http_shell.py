"""The HTTP shell every service shares: health, readiness with reasons, metrics, correlation ids."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
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
