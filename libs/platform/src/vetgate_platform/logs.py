"""Structured JSON logs with correlation and trace ids, and a last line of defence against secrets."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values are never written, whatever the caller passes. Client secrets, API keys,
# refresh tokens, passwords and sealed blobs all match one of these.
_SECRET_KEY = re.compile(
    r"secret|password|passwd|token|api_key|apikey|authorization|cookie|sealed|whsec", re.IGNORECASE
)
# Values that look like credentials, wherever they hide (e.g. inside an exception message).
_SECRET_VALUE = re.compile(
    r"(whsec_[A-Za-z0-9+/=_-]+|Bearer\s+[A-Za-z0-9._~+/=-]+|Token\s+[A-Za-z0-9._~+/=-]{16,}"
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"
)
REDACTED = "[redacted]"


# Every credential _SECRET_VALUE matches contains one of these (it is case-sensitive): a value without
# any of them is left alone without running the expression — most values, on every log line.
_SECRET_VALUE_MARKERS = ("whsec_", "Bearer", "Token", "eyJ")


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    """Log keys come from a small vocabulary: each is matched against _SECRET_KEY once."""
    return _SECRET_KEY.search(key) is not None and key not in {"event", "token_type"}


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if _is_secret_key(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str) and any(marker in value for marker in _SECRET_VALUE_MARKERS):
            event_dict[key] = _SECRET_VALUE.sub(REDACTED, value)
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout: one object per event with service, level, timestamp and context ids."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        # Not cached: module-level loggers must follow a later reconfiguration (tests, CLIs).
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries that use stdlib logging (uvicorn, aiokafka, alembic) go through the same renderer.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
