"""The services' engine after the database ended their sessions (a restart, a failover, an admin's kill), and
what the HTTP shell answers when the database refuses a value."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from vetgate_devstack.infra import Infrastructure
from vetgate_platform.db import create_engine
from vetgate_platform.http import create_service_app


async def test_the_first_transaction_after_the_sessions_were_killed_succeeds(
    infra: Infrastructure, engine: AsyncEngine, schema: str
) -> None:
    async def hold() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(hold() for _ in range(4)))  # four pooled connections, all idle now
    admin = create_engine(infra.database_url, "public", pool_size=1)
    try:
        async with admin.connect() as conn:
            killed = await conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :app"),
                {"app": f"vetgate-{schema}"},
            )
            assert len(killed.all()) == 4
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # requests keep arriving a moment later, not in the same instant

    for _ in range(4):  # every pooled connection is dead: each checkout must still get a working one
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1


async def test_values_the_database_cannot_store_are_the_clients_mistake_and_our_failures_stay_500s(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (body text, n integer)"))

    async def note(request: Request) -> Response:
        form = await request.json()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes VALUES (:body, :n)"), form)
        return Response(status_code=204)

    async def broken(_: Request) -> Response:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT FROM no_such_table"))
        return Response(status_code=204)

    app = create_service_app("dbtest", [], routes=[Route("/notes", note, methods=["POST"]), Route("/broken", broken)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        fine = await http.post("/notes", json={"body": "a note", "n": 1})
        nul = await http.post("/notes", json={"body": "a\x00note", "n": 1})
        huge = await http.post("/notes", json={"body": "a note", "n": 2**31})
        ours = await http.get("/broken")
    assert fine.status_code == 204
    for refused in (nul, huge):
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text
        assert "note" not in refused.text, "the value is not echoed"
    assert ours.status_code == 500, "an undefined table is our bug, not the client's"
