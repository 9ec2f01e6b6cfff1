"""The services' engine after the database ended their sessions (a restart, a failover, an admin's kill)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_platform.db import create_engine


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
