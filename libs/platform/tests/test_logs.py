"""JSON logs: one object per line, context ids attached, secrets never written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from vetgate_platform.logs import configure_logging, get_logger

SECRET = "s3cr3t-Zq8v0pX1yT6uR4wE2nM9bV7cL5kJ3hG"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging binds to pytest's captured stdout; later tests must not write to it."""
    handlers = logging.getLogger().handlers[:]
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    logging.getLogger().handlers[:] = handlers


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_logs_are_json_with_service_and_correlation_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("token")
    structlog.contextvars.bind_contextvars(correlation_id="c-1")
    get_logger("x").info("token issued", client_id="abc")
    [entry] = lines(capsys.readouterr().out)
    assert entry["service"] == "token"
    assert entry["correlation_id"] == "c-1"
    assert entry["client_id"] == "abc"
    assert entry["level"] == "info"


def test_secret_fields_and_secret_looking_values_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("notifier")
    log = get_logger("x")
    log.info("delivering", client_secret=SECRET, password=SECRET, refresh_token=SECRET, token_type="bearer")
    log.warning("receiver said", detail=f"bad signature for whsec_{SECRET}")
    log.warning("header echoed", detail=f"Authorization: Bearer {SECRET}")
    logging.getLogger("stdlib").warning("library log with Token %s", SECRET)
    out = capsys.readouterr().out
    assert SECRET not in out
    entries = lines(out)
    assert entries[0]["client_secret"] == "[redacted]"
    assert entries[0]["token_type"] == "bearer"
    assert len(entries) == 4
