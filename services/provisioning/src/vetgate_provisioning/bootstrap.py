"""Composition root of the provisioning service: everything is wired here, by hand."""

from pathlib import Path

from vetgate_authz import ResourceServer
from vetgate_authz.fastapi import install_auth_errors
from vetgate_messaging.host import ServiceHost

from vetgate_provisioning.config import ProvisioningSettings
from vetgate_provisioning.entrypoints import api
from vetgate_provisioning.entrypoints.errors import install_error_handlers
from vetgate_provisioning.entrypoints.event_handlers import CatalogueEventHandlers
from vetgate_provisioning.service_layer.activations import Activations
from vetgate_provisioning.service_layer.rotation import SecretRotation

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: ProvisioningSettings | None = None) -> ServiceHost:
    settings = settings or ProvisioningSettings()
    host = ServiceHost(settings, MIGRATIONS)
    notifier_key = settings.sealing_public_key()  # refuses to start without it: secrets leave sealed only
    CatalogueEventHandlers(Activations(notifier_key), host.source).register(host.consumer)

    rs = ResourceServer.for_settings(settings)
    rotation = SecretRotation(notifier_key, settings.secret_overlap_seconds, settings.max_secret_overlap_seconds)
    components = api.ApiComponents(host.engine, rs.authorizer, host.source, rotation)
    host.components["api"] = components
    host.routers.append(api.build_router(components))
    host.background += rs.background()
    host.app_setup += [install_auth_errors, install_error_handlers]
    return host
