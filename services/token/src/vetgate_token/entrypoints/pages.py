"""Server-rendered pages of the authorize endpoint: templates, security headers, the signed session.

The session is a signed cookie (itsdangerous), HttpOnly and SameSite=Lax, scoped to one tenant by its
path and by the signature's salt, so a session of tenant A means nothing at tenant B. Every form
carries a CSRF token that must equal the one in the session (double submit, bound to the session).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, select_autoescape

TEMPLATES = Environment(
    loader=PackageLoader("vetgate_token.entrypoints", "templates"), autoescape=select_autoescape(["html"])
)
# Never framed (clickjacking on the consent page: RFC 9700 §4.16), never cached, never leaked by Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
COOKIE = "vetgate_session"


def page(template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(html, status, {**PAGE_HEADERS, **(headers or {})})


def error_page(message: str, status: int = 400, headers: dict[str, str] | None = None) -> HTMLResponse:
    return page("error.html", status, headers, message=message)


def redirect(location: str, status: int = 302) -> Response:
    return Response(status_code=status, headers={**PAGE_HEADERS, "Location": location})


@dataclass
class Sessions:
    secret: bytes
    secure: bool
    max_age: int = 3600  # a login at the authorize endpoint lasts an hour

    def _serializer(self, provet_id: int) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"vetgate-session:{provet_id}")

    def load(self, request: Request, provet_id: int) -> dict[str, Any] | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer(provet_id).loads(raw, max_age=self.max_age)
        except BadSignature:  # another tenant's cookie, tampered with, or expired
            return None
        return data if isinstance(data, dict) else None

    def store(self, response: Response, provet_id: int, session: dict[str, Any]) -> None:
        response.set_cookie(
            COOKIE,
            self._serializer(provet_id).dumps(session),
            max_age=self.max_age,
            path=f"/{provet_id}/oauth2/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )


def new_session(person_id: str | None = None, auth_time: int | None = None) -> dict[str, Any]:
    """A fresh session, with a fresh CSRF token (also after login: no session fixation)."""
    return {"csrf": secrets.token_urlsafe(32), "person": person_id, "auth_time": auth_time}


def csrf_ok(session: dict[str, Any] | None, presented: str | None) -> bool:
    expected = session.get("csrf") if session else None
    return isinstance(expected, str) and bool(presented) and hmac.compare_digest(expected, presented or "")
