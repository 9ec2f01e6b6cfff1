"""The per-tenant OAuth endpoints: token (RFC 6749), revocation (RFC 7009), introspection (RFC 7662)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
import starlette.responses
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from vetgate_events.common import MAX_PROVET_ID
from vetgate_platform.logs import get_logger

from vetgate_token.domain.api_keys import looks_like_api_key
from vetgate_token.entrypoints.components import OAuthComponents, claimed_client_id
from vetgate_token.service_layer.access_tokens import decode_own_token, revoke_token
from vetgate_token.service_layer.api_keys import introspection_answer
from vetgate_token.service_layer.authorization_server import BASIC_CHALLENGE, CLIENT_AUTHENTICATION_FAILED
from vetgate_token.service_layer.person_tokens import PERSON_GRANTS
from vetgate_token.service_layer.prepared import GrantCall

log = get_logger(__name__)
MAX_FIELDS = 100  # OAuth requests carry a handful of parameters
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class JSONResponse(starlette.responses.JSONResponse):
    """JSON rendered with orjson: a quarter of the standard library's time on the token endpoint's path."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """RFC 6749 §5.2 error body; descriptions never repeat what the caller sent."""
    return JSONResponse({"error": error, "error_description": description}, status, {**NO_STORE, **(headers or {})})


async def read_form(request: Request) -> dict[str, str] | JSONResponse:
    """application/x-www-form-urlencoded or multipart/form-data, as the platform we follow accepts."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return oauth_error(400, "invalid_request", "Send the parameters as a form (x-www-form-urlencoded)")
    items: list[tuple[str, Any]]
    body = await request.body()  # outside the try: a body over the platform's limit is a 413, not a bad form
    try:
        if content_type == "application/x-www-form-urlencoded":
            # The standard library's parser: Starlette's (python-multipart) costs several times as much,
            # and the token endpoint's every request has a body like this.
            items = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        else:  # Starlette parses the body read above (Request keeps it)
            items = (await request.form(max_fields=MAX_FIELDS)).multi_items()
    except Exception:  # a malformed body is the client's mistake, not a 500
        return oauth_error(400, "invalid_request", "The request body is not a valid form")
    values = dict(items)
    # RFC 6749 §3.2: parameters must not be included more than once; and a file is no parameter.
    if len(values) != len(items) or not all(isinstance(v, str) for v in values.values()):
        return oauth_error(400, "invalid_request", "A parameter is repeated or is not text")
    return values


def tenant_of(request: Request) -> int:
    """The path's provet_id; one no tenant can have is no route, like a non-numeric one (ADR 0018)."""
    provet_id: int = request.path_params["provet_id"]
    if not 0 < provet_id <= MAX_PROVET_ID:
        raise HTTPException(404)
    return provet_id


def oauth_routes(oauth: OAuthComponents) -> list[Route]:
    """The token, revocation and introspection endpoints, as plain Starlette routes (ADR 0018).

    They take form bodies they parse themselves and answer in RFC shapes, so FastAPI's validation adds
    nothing here but cost: a third of a client_credentials request's CPU went to its routing, dependency
    solving and form parsing."""

    async def admit(request: Request) -> tuple[dict[str, str], list[str], str | None] | JSONResponse:
        """The form, throttle keys and claimed client_id of a request that may proceed, or the refusal."""
        form = await read_form(request)
        if isinstance(form, JSONResponse):
            return form
        try:
            client_id = claimed_client_id(request.headers, form)
        except ValueError:
            return oauth_error(
                400, "invalid_request", "Authenticate the client one way: HTTP Basic or client_secret in the body"
            )
        source = request.client.host if request.client else "unknown"
        keys = [f"source:{source}"] + ([f"client:{client_id}"] if client_id else [])
        wait = oauth.throttle.retry_after(keys)
        if wait is not None:
            return oauth_error(429, "slow_down", "Too many failed attempts; retry later", {"Retry-After": str(wait)})
        return form, keys, client_id

    async def token(request: Request) -> Response:
        provet_id = tenant_of(request)
        admitted = await admit(request)
        if isinstance(admitted, JSONResponse):
            return admitted
        form, keys, client_id = admitted
        if not form.get("grant_type"):  # Authlib would call a missing one unsupported
            return oauth_error(400, "invalid_request", "The grant_type parameter is required")
        client = await oauth.client_of_tenant(client_id, provet_id)
        public_uri = f"{oauth.base_url}{request.scope['path']}"  # the URL integrators use (TLS ends before us)
        if form.get("grant_type") in PERSON_GRANTS:
            result = await oauth.person_tokens.exchange(public_uri, request.headers, form, client)
        else:
            result = oauth.server.token_response("POST", public_uri, request.headers, form, GrantCall(client))
        outcome: dict[str, Any] = {
            "provet_id": provet_id,
            "client_id": client.client_id if client else None,
            "grant_type": form.get("grant_type"),
            "status": result.status,
        }
        if result.status == 200:
            log.info("token issued", **outcome)
        else:
            log.info("token refused", error=result.body.get("error"), **outcome)
            if result.body.get("error") == "invalid_client":
                oauth.throttle.failed(keys)
        return JSONResponse(result.body, result.status, dict(result.headers) | NO_STORE)

    async def revoke(request: Request) -> Response:
        provet_id = tenant_of(request)
        admitted = await admit(request)
        if isinstance(admitted, JSONResponse):
            return admitted
        form, keys, _ = admitted
        client = await oauth.authenticate(request.headers, form, provet_id)
        if client is None:
            oauth.throttle.failed(keys)
            return oauth_error(
                401, "invalid_client", CLIENT_AUTHENTICATION_FAILED, {"WWW-Authenticate": BASIC_CHALLENGE}
            )
        if not form.get("token"):
            return oauth_error(400, "invalid_request", "The token parameter is required")
        claims = decode_own_token(oauth.keys, form["token"])
        if claims is None:
            return Response(status_code=200, headers=NO_STORE)  # RFC 7009 §2.2: unknown tokens are no error
        if claims.get("client_id") != client.client_id:
            # RFC 7009 §2.1: only the client the token was issued to may revoke it.
            return oauth_error(400, "unauthorized_client", "The token was not issued to this client")
        async with oauth.engine.begin() as conn:
            await revoke_token(conn, claims, "revoked by client", oauth.introspection.revocations)
        log.info("token revoked", provet_id=provet_id, client_id=client.client_id, jti=claims.get("jti"))
        return Response(status_code=200, headers=NO_STORE)

    async def introspect(request: Request) -> Response:
        provet_id = tenant_of(request)
        admitted = await admit(request)
        if isinstance(admitted, JSONResponse):
            return admitted
        form, keys, _ = admitted
        if not await _introspection_caller_ok(oauth, request, form, provet_id):
            oauth.throttle.failed(keys)
            return oauth_error(
                401,
                "invalid_client",
                "Introspection requires client authentication",
                {"WWW-Authenticate": 'Basic realm="vetgate", Bearer realm="vetgate"'},
            )
        if not form.get("token"):
            return oauth_error(400, "invalid_request", "The token parameter is required")
        if looks_like_api_key(form["token"]):
            return await _introspect_api_key(oauth, form["token"], provet_id)
        # No database round trip on this path: keys, revocations and clients are cached in memory.
        claims = await oauth.introspection.active_claims(oauth.keys, form["token"], provet_id)
        client = await oauth.store.get(claims["client_id"]) if claims else None
        if claims is None or client is None or not client.active:
            return JSONResponse({"active": False}, headers=NO_STORE)
        return JSONResponse({"active": True, "token_type": "Bearer", **claims}, headers=NO_STORE)

    return [
        Route("/{provet_id:int}/oauth2/token/", token, methods=["POST"]),
        Route("/{provet_id:int}/oauth2/revoke_token/", revoke, methods=["POST"]),
        Route("/{provet_id:int}/oauth2/introspect/", introspect, methods=["POST"]),
    ]


async def _introspect_api_key(oauth: OAuthComponents, key: str, provet_id: int) -> Response:
    """A legacy key (ARCHITECTURE.md): active until revoked; each introspection counts as one use."""
    holder = await oauth.api_keys.active_holder(key, provet_id)
    if holder is None:
        return JSONResponse({"active": False}, headers=NO_STORE)
    oauth.key_usage.record(holder.api_key_id)
    return JSONResponse(introspection_answer(holder), headers=NO_STORE)


async def _introspection_caller_ok(
    oauth: OAuthComponents, request: Request, form: dict[str, str], provet_id: int
) -> bool:
    """RFC 7662 §2.1: Basic with a confidential client of this tenant, or the support client's bearer token."""
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        bearer = authorization[7:].strip()
        claims = decode_own_token(oauth.keys, bearer)
        if claims is None or "support" not in claims.get("roles", ()):
            return False
        support_tenant = int(claims.get("provet_id", 0))
        return await oauth.introspection.active_claims(oauth.keys, bearer, support_tenant) is not None
    return await oauth.authenticate(request.headers, form, provet_id) is not None
