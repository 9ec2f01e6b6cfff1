"""The authorization endpoint (RFC 6749 §4.1.1): log in, consent, redirect back with a code.

GET shows the login or consent page; POST takes those forms. The authorization request stays in the
query string of the page and is validated again by Authlib on every step, so nothing of it is trusted
from the session.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationEndpointMixin
from fastapi import APIRouter, Request
from fastapi.responses import Response
from vetgate_events.common import ProvetId
from vetgate_platform.logs import get_logger

from vetgate_token.adapters import grant_store
from vetgate_token.domain.grants import Person
from vetgate_token.entrypoints.components import OAuthComponents
from vetgate_token.entrypoints.pages import csrf_ok, error_page, new_session, page, redirect
from vetgate_token.service_layer.prepared import GrantCall, PreparedRequest

log = get_logger(__name__)
SCOPE_TEXT = {
    "restapi": "use the clinic's data through the API, with your permissions",
    "openid": "know who you are (your user id and username)",
}
# Our own words: Authlib's descriptions repeat what the request sent (a phisher's URL, for one).
PAGE_ERRORS = {
    "invalid_client": "This application is not known at this clinic.",
    "invalid_request": "The application's request is incomplete or names a redirect address it has not registered.",
}
Validated = tuple[AuthorizationEndpointMixin, GrantCall]


def build_router(oauth: OAuthComponents) -> APIRouter:
    router = APIRouter()

    async def validated(provet_id: int, request: Request) -> Validated | Response:
        items = request.query_params.multi_items()
        args = dict(items)
        if len(args) != len(items):  # RFC 6749 §3.1: no parameter more than once
            return error_page("The authorization request repeats a parameter.")
        client = await oauth.client_of_tenant(args.get("client_id"), provet_id)
        call = GrantCall(client if client is not None and client.active else None)
        uri = f"{oauth.base_url}{request.url.path}?{request.url.query}"
        prepared = PreparedRequest("GET", uri, request.headers, {}, args)
        try:
            return oauth.server.consent_grant(prepared, call), call
        except OAuth2Error as error:
            if not error.redirect_uri:
                # RFC 6749 §4.1.2.1: an unknown client or unregistered redirect_uri is told to the person,
                # never redirected to (RFC 9700 §4.11: no open redirector).
                return error_page(PAGE_ERRORS.get(error.error, PAGE_ERRORS["invalid_request"]))
            _, _, headers = oauth.server.handle_error_response(prepared, error)
            return redirect(dict(headers)["Location"])

    async def signed_in(session: dict[str, Any] | None, provet_id: int) -> Person | None:
        person_id = session.get("person") if session else None
        if not person_id:
            return None
        async with oauth.engine.connect() as conn:
            person = await oauth.people.get(conn, person_id)
        return person if person is not None and person.active and person.provet_id == provet_id else None

    def show(provet_id: int, request: Request, v: Validated, session: dict[str, Any], **extra: Any) -> Response:
        grant, call = v
        assert call.client is not None
        context = {"provet_id": provet_id, "client_name": call.client.name, "csrf_token": session["csrf"]}
        context["action"] = f"{request.url.path}?{request.url.query}"
        person = extra.pop("person", None)
        if person is None:
            response = page("login.html", extra.pop("status", 200), extra.pop("headers", None), **context, **extra)
        else:
            scopes = [(s, SCOPE_TEXT.get(s, s)) for s in grant.request.scope.split()]
            response = page("consent.html", username=person.username, scopes=scopes, **context)
        oauth.sessions.store(response, provet_id, session)
        return response

    @router.get("/{provet_id}/oauth2/authorize/")
    async def authorize(provet_id: ProvetId, request: Request) -> Response:
        v = await validated(provet_id, request)
        if isinstance(v, Response):
            return v
        session = oauth.sessions.load(request, provet_id) or new_session()
        return show(provet_id, request, v, session, person=await signed_in(session, provet_id), username="")

    @router.post("/{provet_id}/oauth2/authorize/")
    async def decide(provet_id: ProvetId, request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
        session = oauth.sessions.load(request, provet_id)
        if session is None or not csrf_ok(session, form.get("csrf_token")):
            return error_page("This form has expired or did not come from this page. Start again.", 403)
        v = await validated(provet_id, request)
        if isinstance(v, Response):
            return v
        action = form.get("action")
        if action == "login":
            return await log_in(provet_id, request, v, session, form)
        person = await signed_in(session, provet_id)
        if person is None:
            return show(provet_id, request, v, session, username="")
        if action not in ("approve", "deny"):
            return error_page("Choose Approve or Deny.")
        grant, call = v
        call.person, call.auth_time = person, int(session.get("auth_time") or time.time())
        # RFC 6749 §4.1.2.1: a refusal goes back as error=access_denied.
        result = oauth.server.authorization_response(grant, person if action == "approve" else None, call)
        if call.new_code is not None:
            async with oauth.engine.begin() as conn:
                await grant_store.save_code(conn, call.new_code)
        log.info(
            "authorization decided",
            provet_id=provet_id,
            client_id=call.client.client_id if call.client else None,
            approved=call.new_code is not None,
        )
        return redirect(dict(result.headers)["Location"])

    async def log_in(
        provet_id: int, request: Request, v: Validated, session: dict[str, Any], form: dict[str, str]
    ) -> Response:
        username = form.get("username", "").strip()
        source = request.client.host if request.client else "unknown"
        keys = [f"login-user:{provet_id}:{username.lower()}", f"login-source:{source}"]
        if (wait := oauth.login_throttle.retry_after(keys)) is not None:
            return error_page(
                "Too many failed sign-in attempts. Wait a moment and try again.", 429, {"Retry-After": str(wait)}
            )
        async with oauth.engine.connect() as conn:
            person = await oauth.people.authenticate(conn, provet_id, username, form.get("password", ""))
        if person is None:
            oauth.login_throttle.failed(keys)
            log.info("login refused", provet_id=provet_id)
            return show(
                provet_id, request, v, session, username=username, status=401, error="Wrong username or password."
            )
        fresh = new_session(person.person_id, int(time.time()))
        response = redirect(f"{request.url.path}?{request.url.query}", 303)  # POST/redirect/GET to consent
        oauth.sessions.store(response, provet_id, fresh)
        return response

    return router
