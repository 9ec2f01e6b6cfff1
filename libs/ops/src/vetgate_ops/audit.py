"""Every change an operator makes to the backbone is written down: who, when, what, with which arguments."""

from __future__ import annotations

import getpass
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_LOG = Path(".vetgate/ops-audit.jsonl")


def audit_log_path() -> Path:
    return Path(os.environ.get("VETGATE_OPS_AUDIT_LOG", DEFAULT_LOG))


def record(action: str, **details: Any) -> dict[str, Any]:
    """Append one JSON line to the audit log (``VETGATE_OPS_AUDIT_LOG``) and return it."""
    entry = {
        "at": datetime.now(UTC).isoformat(),
        "operator": getpass.getuser(),
        "host": socket.gethostname(),
        "action": action,
        **details,
    }
    path = audit_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as log:
        log.write(json.dumps(entry, default=str) + "\n")
    return entry
