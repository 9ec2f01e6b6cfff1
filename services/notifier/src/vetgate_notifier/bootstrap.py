"""Composition root of the notifier service: everything is wired here, by hand."""

from pathlib import Path

from vetgate_messaging.host import ServiceHost

from vetgate_notifier.config import NotifierSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: NotifierSettings | None = None) -> ServiceHost:
    return ServiceHost(settings or NotifierSettings(), MIGRATIONS)
