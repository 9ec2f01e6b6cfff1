"""Alembic revisions shared by every service's schema (outbox, inbox)."""

from pathlib import Path

VERSIONS = Path(__file__).parent / "versions"
