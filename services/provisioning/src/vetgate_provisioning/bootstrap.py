"""Composition root of the provisioning service: everything is wired here, by hand."""

from pathlib import Path

from vetgate_messaging.host import ServiceHost

from vetgate_provisioning.config import ProvisioningSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: ProvisioningSettings | None = None) -> ServiceHost:
    return ServiceHost(settings or ProvisioningSettings(), MIGRATIONS)
