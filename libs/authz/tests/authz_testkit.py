"""Test helpers for vetgate_authz: signing keys, tokens, and a real ASGI app serving the JWKS."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import ECKey
from vetgate_authz import IssuerKeys, TokenVerifier

BASE = "http://auth.test"


def issuer(provet_id: int, base: str = BASE) -> str:
    return f"{base}/{provet_id}/oauth2"


def new_key() -> ECKey:
    return ECKey.generate_key("P-256", auto_kid=True)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def claims(tenant: int = 1, /, *, now: float | None = None, **overrides: Any) -> dict[str, Any]:
    """ADR 0006 claims of a valid token; ``overrides`` set (or, with value ``...``, remove) claims."""
    iat = int(time.time() if now is None else now)
    data: dict[str, Any] = {
        "iss": issuer(tenant),
        "aud": "vetgate",
        "sub": "virtual-user-1",
        "client_id": "client-1",
        "provet_id": tenant,
        "scope": "restapi",
        "permissions": ["patients-clients", "consultations"],
        "roles": [],
        "jti": str(uuid.uuid4()),
        "iat": iat,
        "nbf": iat,
        "exp": iat + 36_000,
    }
    for name, value in overrides.items():
        if value is ...:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def sign(key: ECKey, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **header}, payload, key, algorithms=["ES256"])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS built by hand (for tokens no honest library would produce)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{head}.{body}.{b64url(signature)}"


@dataclass
class JwksServer:
    """What the JWKS endpoint publishes, and how often it was asked."""

    keys: list[ECKey]
    hits: list[int] = field(default_factory=list)  # provet_id of each request
    failing: bool = False

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/{provet_id}/oauth2/jwks/")
        async def jwks(provet_id: int) -> Any:
            self.hits.append(provet_id)
            if self.failing:
                return JSONResponse({"error": "down"}, status_code=503)
            return {"keys": [key.as_dict(private=False, use="sig", alg="ES256") for key in self.keys]}

        return app

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app())
        return httpx.AsyncClient(transport=transport, base_url=BASE)


def verifier(http: httpx.AsyncClient, *, keys_clock: Clock | None = None, **kwargs: Any) -> TokenVerifier:
    keys = IssuerKeys(http=http, clock=keys_clock or Clock(0.0))
    return TokenVerifier(token_bases=[BASE], keys=keys, **kwargs)
