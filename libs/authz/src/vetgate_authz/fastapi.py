"""FastAPI glue: a dependency that authenticates each request and answers 401/403 as RFC 6750 §3 says.

Call :func:`install_auth_errors` once per app for the body ``{"error", "error_description"}``; without it the
status and ``WWW-Authenticate`` are still right, but FastAPI wraps the body in ``{"detail": ...}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from vetgate_authz.authorizer import Authorizer
from vetgate_authz.errors import AuthUnavailable, Forbidden, InvalidToken, MissingCredentials
from vetgate_authz.model import AccessToken

# RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
_DESCRIPTION_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


class AuthHTTPError(HTTPException):
    def __init__(self, status_code: int, error: str, description: str, *, challenge: str | None) -> None:
        headers = {"WWW-Authenticate": challenge} if challenge is not None else {"Retry-After": "5"}
        super().__init__(status_code, detail={"error": error, "error_description": description}, headers=headers)


def _challenge(error: str, description: str) -> str:
    safe = "".join(c for c in description if c in _DESCRIPTION_CHARS)
    return f'Bearer error="{error}", error_description="{safe}"'


def bearer_auth(
    authorizer: Authorizer,
    *,
    role: str | None = None,
    permission: str | None = None,
    any_role: Collection[str] = (),
) -> Callable[[Request], Awaitable[AccessToken]]:
    """A dependency giving the caller's :class:`AccessToken`; the tenant is the ``provet_id`` path parameter
    when the route has one (tokens of another tenant are refused), else any trusted tenant. ``any_role``:
    the token must carry at least one of these roles."""

    async def authenticated(request: Request) -> AccessToken:
        raw_tenant = request.path_params.get("provet_id")
        try:
            provet_id = None if raw_tenant is None else int(raw_tenant)
        except ValueError:
            raise HTTPException(404) from None
        try:
            token = await authorizer.authenticate(request.headers.get("authorization"), provet_id=provet_id)
            authorizer.require(token, permission=permission, role=role)
            if any_role and token.roles.isdisjoint(any_role):
                raise Forbidden(f"one of these roles required: {', '.join(sorted(any_role))}")
        except MissingCredentials as exc:
            # RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
            raise AuthHTTPError(401, "invalid_token", exc.reason, challenge="Bearer") from None
        except InvalidToken as exc:
            challenge = _challenge("invalid_token", exc.reason)
            raise AuthHTTPError(401, "invalid_token", exc.reason, challenge=challenge) from None
        except Forbidden as exc:
            challenge = _challenge("insufficient_scope", exc.reason)  # RFC 6750 §3.1: 403 insufficient_scope
            raise AuthHTTPError(403, "insufficient_scope", exc.reason, challenge=challenge) from None
        except AuthUnavailable as exc:
            raise AuthHTTPError(503, "temporarily_unavailable", exc.reason, challenge=None) from None
        return token

    return authenticated


async def _auth_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthHTTPError)
    return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


def install_auth_errors(app: FastAPI) -> None:
    """Answer :class:`AuthHTTPError` with ``{"error", "error_description"}`` at the top level of the body."""
    app.add_exception_handler(AuthHTTPError, _auth_error_response)
