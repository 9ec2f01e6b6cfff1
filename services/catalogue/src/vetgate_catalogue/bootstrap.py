"""Composition root of the catalogue service: everything is wired here, by hand."""

from pathlib import Path

from vetgate_messaging.host import ServiceHost

from vetgate_catalogue.config import CatalogueSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: CatalogueSettings | None = None) -> ServiceHost:
    return ServiceHost(settings or CatalogueSettings(), MIGRATIONS)
