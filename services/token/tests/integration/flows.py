"""Driving the token service as provisioning and integrators do: events in, HTTP requests out."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from vetgate_events import IntegrationEvent
from vetgate_events.provisioning import ClientProvisioned
from vetgate_messaging import testing
from vetgate_platform.secrets import secret_digest


async def publish(bootstrap: str, event: IntegrationEvent, source: str = "/vetgate/provisioning") -> str:
    """Publish as provisioning does (the token service consumes provisioning's events)."""
    return await testing.publish(bootstrap, event, source)


def provisioned(provet_id: int, permissions: list[str] | None = None) -> tuple[ClientProvisioned, str]:
    """A fresh client_credentials integration and its plaintext secret."""
    secret = secrets.token_urlsafe(32)
    event = ClientProvisioned(
        client_id=f"int-{uuid.uuid4().hex[:12]}",
        activation_id=uuid.uuid4(),
        template_id=uuid.uuid4(),
        provet_id=provet_id,
        integration_name="Reminders",
        grant_type="client_credentials",
        client_type="confidential",
        virtual_user_id=uuid.uuid4(),
        permissions=permissions or ["patients-clients", "reminder"],
        secret_hash=secret_digest(secret),
        sealed_secret=None,
        delivery={"kind": "email", "address": "owner@example.com"},
        provisioned_at=datetime.now(UTC),
    )
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
