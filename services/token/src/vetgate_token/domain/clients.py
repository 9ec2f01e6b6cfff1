"""A registered OAuth client, as Authlib's grants see it (RFC 6749 §2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from authlib.oauth2.rfc6749 import ClientMixin

DEFAULT_SCOPE = "restapi"
SCOPES = frozenset({"restapi", "openid"})

SecretCheck = Callable[[str, str], bool]
"""(presented secret, stored digest) -> match, in constant time."""


@dataclass(frozen=True)
class StoredSecret:
    digest: str
    valid_until: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.valid_until is None or now < self.valid_until


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):  # type: ignore[misc]
    client_id: str
    provet_id: int
    name: str
    client_type: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    subject: str
    permissions: tuple[str, ...]
    roles: tuple[str, ...]
    active: bool
    tokens_issued_from: int = 0
    secrets: tuple[StoredSecret, ...] = ()
    secret_check: SecretCheck = field(default=lambda presented, stored: False, repr=False, compare=False)

    @property
    def is_public(self) -> bool:
        return self.client_type == "public"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        # RFC 6749 §3.3: no scope asked → the default; unknown scopes are dropped, not errors.
        requested = (scope or DEFAULT_SCOPE).split()
        allowed = {"restapi"} | ({"openid"} if "authorization_code" in self.grant_types else set())
        return " ".join(s for s in dict.fromkeys(requested) if s in allowed) or DEFAULT_SCOPE

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match only (RFC 9700 §2.1)

    def check_client_secret(self, client_secret: str) -> bool:
        now = datetime.now(UTC)
        # Check every stored secret, valid or not, so timing says nothing about which one matched.
        results = [(self.secret_check(client_secret, s.digest), s.valid_at(now)) for s in self.secrets]
        return self.active and any(ok and valid for ok, valid in results)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        if not self.active:
            return False
        if grant_type == "refresh_token":
            return "authorization_code" in self.grant_types
        return grant_type in self.grant_types


def grant_types_for(grant_type: str) -> Sequence[str]:
    """authorization_code clients may also refresh; client_credentials get no refresh token."""
    return ("authorization_code", "refresh_token") if grant_type == "authorization_code" else (grant_type,)
