"""What catalogue tests share: the running service under test and a valid template body."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.token_server import TokenServer
from vetgate_messaging.host import ServiceHost
from vetgate_platform.sealing import SealingKeyring

BASE_URL = "http://catalogue.test"


@dataclass
class Catalogue:
    host: ServiceHost
    http: httpx.AsyncClient
    notifier_keys: SealingKeyring
    tokens: TokenServer
    infra: Infrastructure

    async def support(self) -> dict[str, str]:
        return await self.tokens.support_headers()

    async def admin(self, provet_id: int) -> dict[str, str]:
        return await self.tokens.admin_headers(provet_id)

    async def create_template(self, **overrides: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/templates", json=template_body(**overrides), headers=await self.support())
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def template_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Lab Sync {uuid.uuid4().hex[:6]}",
        "description": "Sends lab results into consultations",
        "owner": {"name": "Ada Lab", "email": "ada@lab.example", "phone": "+358 40 123 4567"},
        "grant_type": "client_credentials",
        "client_type": "confidential",
        "redirect_uris": [],
        "delivery": {"kind": "hook_url", "url": "https://hooks.lab.example/vetgate"},
        "permissions": ["consultations", "laboratory"],
        "sandbox_tenants": [1001],
        "setup_instructions": "Paste the client id into Lab Sync's settings.",
    }
    return body | overrides


CatalogueFactory = Callable[..., Awaitable["Catalogue"]]
