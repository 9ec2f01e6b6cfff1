"""What can go wrong while authenticating a request. Reasons are short, fixed and never echo a credential."""

from __future__ import annotations


class InvalidToken(Exception):
    """The credentials are missing, malformed, expired, revoked or not for this resource server (HTTP 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingCredentials(InvalidToken):
    """No ``Authorization`` header at all: RFC 6750 §3.1 says the challenge then carries no error code."""

    def __init__(self) -> None:
        super().__init__("missing credentials")


class Forbidden(Exception):
    """Authenticated, but the token lacks the permission or role the operation needs (HTTP 403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthUnavailable(Exception):
    """The authorization server (JWKS or introspection) cannot be reached: not the caller's fault (HTTP 503)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
