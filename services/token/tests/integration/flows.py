"""Driving the token service as provisioning and integrators do: events in, HTTP requests out."""

from __future__ import annotations

import base64
import json
from typing import Any

from vetgate_events import IntegrationEvent
from vetgate_events.provisioning import ClientProvisioned
from vetgate_messaging import testing


async def publish(bootstrap: str, event: IntegrationEvent, source: str = "/vetgate/provisioning") -> str:
    """Publish as provisioning does (the token service consumes provisioning's events)."""
    return await testing.publish(bootstrap, event, source)


def provisioned(provet_id: int, permissions: list[str] | None = None) -> tuple[ClientProvisioned, str]:
    """A fresh client_credentials integration and its plaintext secret."""
    event, secret = testing.client_provisioned(provet_id, permissions=permissions or ["patients-clients", "reminder"])
    assert secret is not None
    return event, secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


wait_for_record = testing.wait_for_record


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT, read without checking it (tests only)."""
    header, payload = (
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in token.split(".")[:2]
    )
    return header, payload
