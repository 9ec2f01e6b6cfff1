"""LISTEN for a NOTIFY channel on a connection of its own, setting an asyncio event on each notice.

Postgres delivers a NOTIFY when the sending transaction commits, to every listener — this process
and every other replica — so a handler's commit wakes the dispatchers without racing the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@contextlib.asynccontextmanager
async def listening(engine: AsyncEngine, channel: str, event: asyncio.Event) -> AsyncIterator[Any]:
    """Yields the raw asyncpg connection (check ``is_closed()``: a lost one must be re-opened)."""

    def notified(*_: Any) -> None:
        event.set()

    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        await conn.commit()  # notifications arrive only between transactions
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None, "an open asyncpg connection"
        await raw.add_listener(channel, notified)
        try:
            yield raw
        finally:
            with contextlib.suppress(Exception):
                await raw.remove_listener(channel, notified)
