"""A real token service on a loopback port, for tests of the services that accept its tokens.

Resource servers fetch the JWKS over HTTP, so an in-process ASGI client is not enough: this serves the
token app with uvicorn, seeded like the dev stack (support client, tenants 1001-1003 with admin clients),
and hands out tokens for those identities.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from vetgate_devstack.infra import Infrastructure, free_port
from vetgate_devstack.seed import new_seed


async def client_credentials_token(client: dict[str, Any]) -> str:
    """An access token for a ``{"client_id", "client_secret", "token_url"}`` entry of dev-credentials.json."""
    async with httpx.AsyncClient() as http:
        response = await http.post(
            client["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


@dataclass
class TokenServer:
    base_url: str
    seed: dict[str, Any]
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def tenants(self) -> list[int]:
        return [int(t["provet_id"]) for t in self.seed["tenants"]]

    async def client_token(self, client: dict[str, Any]) -> str:
        """A client_credentials access token for a seeded client (cached: tokens live 10 h)."""
        if client["client_id"] not in self._tokens:
            self._tokens[client["client_id"]] = await client_credentials_token(client)
        return self._tokens[client["client_id"]]

    async def support_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.client_token(self.seed['support'])}"}

    async def admin_headers(self, provet_id: int) -> dict[str, str]:
        tenant = next(t for t in self.seed["tenants"] if int(t["provet_id"]) == provet_id)
        return {"Authorization": f"Bearer {await self.client_token(tenant['admin'])}"}


@contextlib.asynccontextmanager
async def running_token_server(infra: Infrastructure, state_dir: Path) -> AsyncIterator[TokenServer]:
    from vetgate_messaging.testing import start_group_at_end
    from vetgate_token.bootstrap import bootstrap  # the devstack does not import services at module load
    from vetgate_token.config import TokenSettings

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    seed = new_seed(base_url)
    seed_file = state_dir / f"token-seed-{port}.json"
    seed_file.write_text(json.dumps(seed))
    suffix = uuid.uuid4().hex[:8]
    settings = TokenSettings(
        database_url=infra.database_url,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        dev_mode=True,
        host="127.0.0.1",
        port=port,
        db_schema=f"token_{suffix}",
        consumer_group=f"token-server-{suffix}",
        key_encryption_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        secret_pepper=base64.b64encode(secrets.token_bytes(32)).decode(),
        seed_file=seed_file,
    )
    host = bootstrap(settings)
    await asyncio.to_thread(host.migrate)
    # From the end: replaying every ClientProvisioned earlier tests left on the broker would re-emit their
    # CredentialsIssued, which other tests' notifiers would then deliver.
    await start_group_at_end(infra.kafka_bootstrap, settings.group, host.consumer.topics)
    server = uvicorn.Server(uvicorn.Config(host.create_app(), host="127.0.0.1", port=port, log_config=None))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start
        await asyncio.sleep(0.05)
    try:
        yield TokenServer(base_url, seed)
    finally:
        server.should_exit = True
        await serving
