"""The one-time secret reveal page: GET shows a button (link scanners burn nothing), POST reveals once.

``POST`` answers HTML, or JSON when the caller asks for ``application/json`` (scripts, tests).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from vetgate_notifier.service_layer.reveal_links import LinkState, Revealed, RevealLinks

TEMPLATES = Environment(
    loader=PackageLoader("vetgate_notifier.entrypoints", "templates"), autoescape=select_autoescape(["html"])
)
# Never cached, framed or leaked by Referer (the URL is the capability).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}
_REFUSED = {
    LinkState.USED: (410, "This secret has already been revealed. Ask Vetgate support to redeliver the credentials."),
    LinkState.EXPIRED: (410, "This link has expired. Ask Vetgate support to redeliver the credentials."),
    LinkState.UNKNOWN: (404, "This link is not valid."),
}


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(template).render(**context), status, PAGE_HEADERS)


def _refusal(state: LinkState, wants_json: bool) -> Response:
    status, message = _REFUSED[state]
    if wants_json:
        return JSONResponse({"error": f"link_{state.value}", "error_description": message}, status, PAGE_HEADERS)
    return _page("refused.html", status, message=message)


def build_router(links: RevealLinks) -> APIRouter:
    router = APIRouter()

    @router.get("/reveal/{token}")
    async def show(token: str) -> Response:
        found = await links.look(token)
        if found.state is not LinkState.READY:
            return _refusal(found.state, wants_json=False)
        return _page("reveal.html", issued=found.credentials, expires_at=found.expires_at)

    @router.post("/reveal/{token}")
    async def reveal(token: str, request: Request) -> Response:
        wants_json = "application/json" in request.headers.get("accept", "")
        revealed: Revealed = await links.reveal(token)
        if revealed.state is not LinkState.READY or revealed.credentials is None:
            return _refusal(revealed.state, wants_json)
        issued = revealed.credentials
        if wants_json:
            body = {"client_id": issued.client_id, "client_secret": revealed.secret, "token_url": issued.token_url}
            return JSONResponse(body, 200, PAGE_HEADERS)
        return _page("revealed.html", issued=issued, secret=revealed.secret)

    return router
