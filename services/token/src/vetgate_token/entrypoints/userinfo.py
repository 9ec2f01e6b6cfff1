"""OpenID Connect UserInfo (OIDC Core §5.3): who the person behind an access token is."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from vetgate_events.common import ProvetId

from vetgate_token.entrypoints.components import OAuthComponents


def bearer_error(status: int, error: str, description: str) -> JSONResponse:
    # RFC 6750 §3: the error goes in WWW-Authenticate as well as the body.
    challenge = f'Bearer realm="vetgate", error="{error}", error_description="{description}"'
    return JSONResponse({"error": error, "error_description": description}, status, {"WWW-Authenticate": challenge})


def build_router(oauth: OAuthComponents) -> APIRouter:
    router = APIRouter()

    @router.api_route("/{provet_id}/oauth2/userinfo/", methods=["GET", "POST"])
    async def userinfo(provet_id: ProvetId, request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        if authorization[:7].lower() != "bearer ":
            # RFC 6750 §3.1: a request without credentials gets the challenge, without an error code.
            return JSONResponse({"error": "invalid_token"}, 401, {"WWW-Authenticate": 'Bearer realm="vetgate"'})
        claims = await oauth.introspection.active_claims(oauth.keys, authorization[7:].strip(), provet_id)
        client = await oauth.store.get(claims["client_id"]) if claims else None
        async with oauth.engine.connect() as conn:
            person = await oauth.people.get(conn, str(claims["sub"])) if claims and client else None
        if claims is None or client is None or not client.active or person is None or not person.active:
            return bearer_error(401, "invalid_token", "The access token is not valid here")
        if person.provet_id != provet_id:
            return bearer_error(401, "invalid_token", "The access token is not valid here")
        if "openid" not in str(claims.get("scope", "")).split():
            return bearer_error(403, "insufficient_scope", "The access token lacks the openid scope")
        return JSONResponse(
            {"sub": person.person_id, "preferred_username": person.username, "provet_id": provet_id},
            headers={"Cache-Control": "no-store"},
        )

    return router
