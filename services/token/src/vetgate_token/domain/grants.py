"""People, authorization codes and refresh tokens, as Authlib's grants see them (RFC 6749 §4.1, §6)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

CODE_LIFETIME = timedelta(seconds=60)  # RFC 6749 §4.1.2: codes must expire shortly after issue
REFRESH_LIFETIME = timedelta(days=30)  # sliding: from the latest access token the refresh produced

_PEOPLE = uuid.UUID("0b6c2a51-8c7e-4f0e-9a43-3f1d2f6f9a10")


def person_id_for(provet_id: int, username: str) -> str:
    """A stable id for a seeded person: the same on every start of the dev stack."""
    return str(uuid.uuid5(_PEOPLE, f"{provet_id}:{username}"))


def digest(secret: str) -> str:
    """Codes and refresh tokens are 256-bit random values, so plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    person_id: str
    provet_id: int
    username: str
    permissions: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class IssuedCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code_hash: str
    client_id: str
    provet_id: int
    person_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: int
    expires_at: datetime
    used_at: datetime | None = None
    access_jti: str | None = None
    access_exp: int | None = None
    family_id: str | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass(frozen=True)
class RefreshToken(TokenMixin):  # type: ignore[misc]
    token_hash: str
    family_id: str
    client_id: str
    provet_id: int
    person_id: str
    scope: str
    auth_time: int
    expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        return self.rotated_at is None and self.revoked_at is None and now < self.expires_at

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(REFRESH_LIFETIME.total_seconds())

    def is_expired(self) -> bool:
        return False  # checked by usable_at, with the clock the route reads

    def is_revoked(self) -> bool:
        return self.revoked_at is not None
