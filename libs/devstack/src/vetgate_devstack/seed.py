"""The dev stack's seed: a support client and sandbox tenants with an admin client and a person each.

Written once to ``.vetgate/dev-credentials.json`` and reused on every later start, so scripts and
browsers keep working across restarts. The token service registers these identities at start-up.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

from vetgate_platform.sealing import SealingKeyring

SANDBOX_TENANTS = (1001, 1002, 1003)


def _client(prefix: str, token_url: str) -> dict[str, str]:
    return {
        "client_id": f"{prefix}-{secrets.token_hex(6)}",
        "client_secret": secrets.token_urlsafe(32),
        "token_url": token_url,
    }


def new_seed(token_base_url: str) -> dict[str, Any]:
    return {
        "support": {
            **_client("support", f"{token_base_url}/{SANDBOX_TENANTS[0]}/oauth2/token/"),
            "provet_id": SANDBOX_TENANTS[0],
            "roles": ["support"],
        },
        "tenants": [
            {
                "provet_id": provet_id,
                "admin": _client(f"admin-{provet_id}", f"{token_base_url}/{provet_id}/oauth2/token/"),
                "users": [{"username": f"vet{provet_id}", "password": secrets.token_urlsafe(12)}],
            }
            for provet_id in SANDBOX_TENANTS
        ],
    }


def dev_secrets(path: Path) -> dict[str, str]:
    """The dev stack's service keys (signing-key encryption, secret pepper, the notifier's sealing key pair),
    made once and kept: with fresh ones on every start, stored keys and client secrets would stop working
    after a restart. Keys added by a newer version are filled into an older file."""
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = {
        name: base64.b64encode(secrets.token_bytes(32)).decode()
        for name in ("VETGATE_TOKEN_KEY_ENCRYPTION_KEY", "VETGATE_TOKEN_SECRET_PEPPER")
        if name not in stored
    }
    if "VETGATE_NOTIFIER_SEALING_KEYS" not in stored:
        keyring = SealingKeyring.generate()
        missing |= {
            "VETGATE_NOTIFIER_SEALING_KEYS": keyring.to_base64(),
            "VETGATE_NOTIFIER_PUBLIC_KEY": keyring.public_key.to_base64(),
        }
    if missing:
        stored |= missing
        _write_private(path, stored)
    return stored


def _write_private(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.chmod(0o600)  # it holds secrets
    tmp.rename(path)


def write_credentials(path: Path, token_base_url: str, infrastructure: dict[str, Any]) -> dict[str, Any]:
    """Keep the identities of an earlier run; refresh what describes this run's infrastructure."""
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    kept: dict[str, Any] = {k: existing[k] for k in ("support", "tenants") if k in existing}
    seed = kept or new_seed(token_base_url)
    document = {**seed, **infrastructure}
    _write_private(path, document)
    return document
