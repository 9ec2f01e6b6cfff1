"""What Authlib is handed and what it hands back, without any HTTP framework in between."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from vetgate_token.domain.clients import RegisteredClient
from vetgate_token.domain.grants import IssuedCode, Person, RefreshToken


@dataclass(frozen=True)
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


class PreparedRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request over a body the async route has already read."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        form: Mapping[str, str],
        args: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(method, uri, headers=headers)  # keep it case-insensitive (Starlette Headers)
        self._form = dict(form)
        self._args = dict(args or {})
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


@dataclass
class GrantCall:
    """One call into Authlib: what the async route preloaded, and what Authlib produced to be stored.

    Authlib's hooks read the inputs instead of querying, and write the outputs instead of saving;
    the route persists the outputs afterwards, in one transaction.
    """

    client: RegisteredClient | None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    person: Person | None = None
    auth_time: int = 0
    code: IssuedCode | None = None
    refresh: RefreshToken | None = None
    new_code: IssuedCode | None = None
    access_claims: dict[str, Any] | None = None
    refresh_token: str | None = None


_current: contextvars.ContextVar[GrantCall | None] = contextvars.ContextVar("grant_call", default=None)


def current_call() -> GrantCall:
    call = _current.get()
    if call is None:
        raise RuntimeError("Authlib ran outside a prepared call")
    return call


@contextmanager
def within(call: GrantCall) -> Iterator[GrantCall]:
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)
