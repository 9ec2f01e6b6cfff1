"""A stand-in token service for the API-key tests: client_credentials, introspection as support, usage reports.

A real ASGI app (not a mock of our code): it checks what the real one checks at these endpoints — HTTP Basic
client authentication at the token endpoint (RFC 6749 §2.3.1), the support bearer token at introspection and
at the usage endpoint — and records what it was asked.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
from authz_testkit import BASE, Clock, verifier
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from vetgate_authz import (
    Authorizer,
    ClientCredentials,
    ClientCredentialsAuth,
    IntrospectionClient,
    RevocationList,
    RevokedApiKeys,
    UsageMeter,
)
from vetgate_events.token import KeyRevoked

SUPPORT_TENANT = 1001
SUPPORT_ID, SUPPORT_SECRET = "support-rs", "sup3r:secret/+"
SUPPORT = ClientCredentials(f"{BASE}/{SUPPORT_TENANT}/oauth2/token/", SUPPORT_ID, SecretStr(SUPPORT_SECRET))


def key_answer(provet_id: int, key_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The token service's introspection answer for an active key (ARCHITECTURE.md, legacy API keys)."""
    key_id = key_id or str(uuid.uuid4())
    return {
        "active": True,
        "token_type": "api_key",
        "jti": key_id,
        "sub": f"api-key:{key_id}",
        "client_id": f"api-key:{key_id}",
        "provet_id": provet_id,
        "scope": "restapi",
        "permissions": ["patients-clients"],
        "roles": [],
        "iat": 1_700_000_000,
    } | overrides


def key_revoked(key_id: str, provet_id: int = 1) -> KeyRevoked:
    return KeyRevoked(
        api_key_id=uuid.UUID(key_id),
        provet_id=provet_id,
        environment="production",
        revocation_batch_id=uuid.uuid4(),
        reason="deadline",
        revoked_at=datetime.now(UTC),
    )


@dataclass
class FakeTokenService:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → active answer
    expires_in: int | None = 36_000
    refuse_client: bool = False
    refuse_introspection: bool = False  # e.g. the client lost its support role
    usage_status: int = 202
    usage_failing_attempts: set[int] = field(default_factory=set)  # 1-based numbers of usage requests to fail
    usage_hang: bool = False  # usage requests are received and never answered
    usage_received: asyncio.Event = field(default_factory=asyncio.Event)
    valid_tokens: set[str] = field(default_factory=set)
    token_requests: list[int] = field(default_factory=list)  # provet_id of each
    introspections: list[tuple[int, str]] = field(default_factory=list)  # (provet_id, Authorization)
    usage_reports: list[list[dict[str, Any]]] = field(default_factory=list)  # the "uses" of each accepted one
    usage_attempts: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{provet_id}/oauth2/token/")
        async def token(provet_id: int, request: Request) -> Any:
            self.token_requests.append(provet_id)
            form = parse_qs((await request.body()).decode())
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            user, _, password = base64.b64decode(encoded).decode().partition(":") if scheme == "Basic" else ("", "", "")
            known = (unquote(user), unquote(password)) == (SUPPORT_ID, SUPPORT_SECRET)  # RFC 6749 §2.3.1
            if self.refuse_client or not known or provet_id != SUPPORT_TENANT:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            assert form["grant_type"] == ["client_credentials"]
            access_token = f"at-{uuid.uuid4().hex}"
            self.valid_tokens.add(access_token)
            answer = {"access_token": access_token, "token_type": "Bearer"}
            return answer if self.expires_in is None else answer | {"expires_in": self.expires_in}

        @app.post("/{provet_id}/oauth2/introspect/")
        async def introspect(provet_id: int, request: Request) -> Any:
            authorization = request.headers.get("authorization", "")
            self.introspections.append((provet_id, authorization))
            if self.refuse_introspection or not self._support(authorization):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            key = parse_qs((await request.body()).decode())["token"][0]
            answer = self.keys.get(key)
            return answer if answer is not None and answer["provet_id"] == provet_id else {"active": False}

        @app.post("/v1/api-keys/usage", status_code=202)
        async def usage(request: Request) -> Any:
            self.usage_attempts += 1
            self.usage_received.set()
            if not self._support(request.headers.get("authorization", "")):
                return JSONResponse({"error": "invalid_token"}, status_code=401)
            if self.usage_hang:
                await asyncio.Event().wait()
            if self.usage_status != 202 or self.usage_attempts in self.usage_failing_attempts:
                return JSONResponse({"error": "unavailable"}, status_code=503)
            self.usage_reports.append((await request.json())["uses"])
            return {}

        return app

    def _support(self, authorization: str) -> bool:
        return authorization.startswith("Bearer ") and authorization.removeprefix("Bearer ") in self.valid_tokens

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app()), base_url=BASE)


@dataclass
class KeyChecker:
    """An :class:`Authorizer` that accepts API keys as the support client, and what it is made of."""

    authorizer: Authorizer
    auth: ClientCredentialsAuth
    revoked: RevokedApiKeys
    meter: UsageMeter
    http: httpx.AsyncClient


def key_checker(service: FakeTokenService, clock: Clock, http: httpx.AsyncClient) -> KeyChecker:
    auth = ClientCredentialsAuth(SUPPORT, http=http, clock=clock)
    revoked, meter = RevokedApiKeys(clock=clock), UsageMeter()
    client = IntrospectionClient(token_base=BASE, auth=auth, http=http, revoked=revoked, usage=meter, clock=clock)
    return KeyChecker(Authorizer(verifier(http), RevocationList(), client), auth, revoked, meter, http)
