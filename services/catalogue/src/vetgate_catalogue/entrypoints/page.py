"""The server-rendered catalogue page for a tenant (the same data and the same auth as the JSON API).

No ``from __future__ import annotations``: FastAPI resolves the route annotations at import time.
"""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from vetgate_authz import AccessToken, Authorizer
from vetgate_authz.fastapi import bearer_auth
from vetgate_events.common import ProvetId

from vetgate_catalogue.entrypoints.schemas import CatalogueItem
from vetgate_catalogue.service_layer.activations import Applications

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(default=True)
)
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def build_router(applications: Applications, authorizer: Authorizer) -> APIRouter:
    router = APIRouter()
    TenantUser = Annotated[AccessToken, Depends(bearer_auth(authorizer))]  # as the JSON catalogue

    @router.get("/tenants/{provet_id}/catalogue", response_class=HTMLResponse)
    async def catalogue_page(provet_id: ProvetId, _: TenantUser) -> HTMLResponse:
        items = [CatalogueItem.of(e) for e in await applications.catalogue(provet_id)]
        html = _pages.get_template("catalogue.html").render(provet_id=provet_id, items=items)
        return HTMLResponse(html, headers=_HEADERS)

    return router
