"""Composition root of the token service: everything is wired here, by hand."""

from pathlib import Path

from vetgate_messaging.host import ServiceHost

from vetgate_token.config import TokenSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: TokenSettings | None = None) -> ServiceHost:
    return ServiceHost(settings or TokenSettings(), MIGRATIONS)
