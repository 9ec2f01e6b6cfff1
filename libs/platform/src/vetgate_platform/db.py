"""The service's SQLAlchemy engine: asyncpg, search_path pinned to the service's own schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def async_url(database_url: str) -> URL:
    """Accept the plain ``postgresql://`` form operators use and pick the asyncpg driver."""
    url = make_url(database_url)
    return url.set(drivername="postgresql+asyncpg")


def create_engine(database_url: str, schema: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        async_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No ping per checkout (a round trip on every transaction of every service, measurable end to
        # end); a connection the server closed — a database restart — is replaced at checkout instead,
        # see below.
        pool_pre_ping=False,
        connect_args={"server_settings": {"search_path": schema, "application_name": f"vetgate-{schema}"}},
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def _replace_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """asyncpg marks a connection closed as soon as the event loop reads the server's goodbye (a restart
    terminates every session), so the first transaction after a restart gets a fresh connection rather
    than failing — what the ping was for, without its round trip."""
    if dbapi_connection._connection.is_closed():
        raise DisconnectionError("connection closed by the server")
