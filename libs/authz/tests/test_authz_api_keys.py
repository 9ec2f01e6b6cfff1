"""Legacy ``Authorization: Token <key>``: introspection (RFC 7662) with HTTP Basic, cached briefly without a push."""

from __future__ import annotations

import base64
import logging
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import pytest
from authz_testkit import BASE, Clock, verifier
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from vetgate_authz import (
    Authorizer,
    AuthUnavailable,
    IntrospectionClient,
    InvalidToken,
    RevocationList,
    client_basic_auth,
)

CLIENT_ID, CLIENT_SECRET = "rs-client", "s3cret:with/odd chars"
GOOD_KEY = "vk_live_0123456789abcdef"


@dataclass
class IntrospectionServer:
    keys: dict[str, dict[str, Any]]
    calls: list[tuple[int, str]] = field(default_factory=list)  # (provet_id, Authorization header)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{provet_id}/oauth2/introspect/")
        async def introspect(provet_id: int, request: Request) -> Any:
            authorization = request.headers.get("authorization", "")
            self.calls.append((provet_id, authorization))
            user, _, password = base64.b64decode(authorization.removeprefix("Basic ")).decode().partition(":")
            if (unquote(user), unquote(password)) != (CLIENT_ID, CLIENT_SECRET):  # RFC 6749 §2.3.1 decoding
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            token = parse_qs((await request.body()).decode())["token"][0]
            answer = self.keys.get(token)
            return answer if answer is not None and answer.get("provet_id") == provet_id else {"active": False}

        return app


def api_key_answer(provet_id: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "active": True,
        "token_type": "api_key",
        "sub": "legacy-user-4",
        "client_id": "legacy-integration",
        "provet_id": provet_id,
        "scope": "restapi",
        "permissions": ["patients-clients"],
    } | overrides


def setup(
    server: IntrospectionServer, clock: Clock, secret: str = CLIENT_SECRET
) -> tuple[Authorizer, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app()), base_url=BASE)
    auth = client_basic_auth(CLIENT_ID, secret)
    introspection = IntrospectionClient(token_base=BASE, auth=auth, http=http, clock=clock)
    return Authorizer(verifier(http), RevocationList(), introspection), http


async def test_api_key_is_introspected_with_basic_auth_and_cached() -> None:
    server = IntrospectionServer({GOOD_KEY: api_key_answer(1)})
    clock = Clock(0.0)
    authorizer, http = setup(server, clock)
    async with http:
        token = await authorizer.authenticate(f"Token {GOOD_KEY}", provet_id=1)
        assert (token.token_type, token.subject, token.client_id, token.provet_id) == (
            "api_key",
            "legacy-user-4",
            "legacy-integration",
            1,
        )
        assert token.permissions == {"patients-clients"} and token.jti is None
        expected = "Basic " + base64.b64encode(b"rs-client:s3cret%3Awith%2Fodd%20chars").decode()
        assert server.calls == [(1, expected)]

        await authorizer.authenticate(f"token {GOOD_KEY}", provet_id=1)
        assert len(server.calls) == 1, "second call answered from the cache"
        clock.advance(1.01)
        await authorizer.authenticate(f"Token {GOOD_KEY}", provet_id=1)
        assert len(server.calls) == 2, "without a revocation push, active answers are trusted for 1 s"


async def test_unknown_and_foreign_keys_are_refused_and_negatively_cached() -> None:
    server = IntrospectionServer({GOOD_KEY: api_key_answer(1), "vk_jwt": api_key_answer(1, token_type="access_token")})
    clock = Clock(0.0)
    authorizer, http = setup(server, clock)
    async with http:
        for key, tenant in [("vk_unknown", 1), ("vk_unknown", 1), (GOOD_KEY, 2), ("vk_jwt", 1)]:
            with pytest.raises(InvalidToken, match="invalid API key"):
                await authorizer.authenticate(f"Token {key}", provet_id=tenant)
        assert len(server.calls) == 3, "the repeated unknown key was answered from the negative cache"
        clock.advance(1.1)
        with pytest.raises(InvalidToken):
            await authorizer.authenticate("Token vk_unknown", provet_id=1)
        assert len(server.calls) == 4, "negative answers expire after 1 s"
        with pytest.raises(InvalidToken, match="API keys are not accepted here"):
            await authorizer.authenticate(f"Token {GOOD_KEY}", provet_id=None)


async def test_refused_client_credentials_are_an_outage_and_the_key_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = IntrospectionServer({GOOD_KEY: api_key_answer(1)})
    authorizer, http = setup(server, Clock(0.0), secret="wrong")
    caplog.set_level(logging.DEBUG)
    async with http:
        for _ in range(2):
            with pytest.raises(AuthUnavailable) as unavailable:
                await authorizer.authenticate(f"Token {GOOD_KEY}", provet_id=1)
            assert GOOD_KEY not in str(unavailable.value)
    assert len(server.calls) == 2, "failures are not cached"
    assert "introspection refused" in caplog.text and GOOD_KEY not in caplog.text


async def test_cached_api_key_check_is_well_under_a_millisecond() -> None:
    server = IntrospectionServer({GOOD_KEY: api_key_answer(1)})
    authorizer, http = setup(server, Clock(0.0))
    async with http:
        await authorizer.authenticate(f"Token {GOOD_KEY}", provet_id=1)
        timings = []
        for _ in range(2000):
            started = time.perf_counter()
            await authorizer.authenticate(f"Token {GOOD_KEY}", provet_id=1)
            timings.append(time.perf_counter() - started)
    assert len(server.calls) == 1
    assert statistics.median(timings) < 0.001
