"""Composition root of the catalogue service: everything is wired here, by hand."""

from datetime import timedelta
from pathlib import Path

from vetgate_authz import ResourceServer
from vetgate_authz.fastapi import install_auth_errors
from vetgate_messaging.host import ServiceHost

from vetgate_catalogue.config import CatalogueSettings
from vetgate_catalogue.entrypoints import api, page
from vetgate_catalogue.service_layer.activations import Applications, DeliveryOutcomes
from vetgate_catalogue.service_layer.templates import Templates

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: CatalogueSettings | None = None) -> ServiceHost:
    settings = settings or CatalogueSettings()
    host = ServiceHost(settings, MIGRATIONS)
    resource_server = ResourceServer.for_settings(settings)
    templates = Templates(
        host.engine,
        settings.sealing_public_key(),
        dev_mode=settings.dev_mode,
        overlap=timedelta(seconds=settings.webhook_secret_overlap_seconds),
    )
    applications = Applications(host.engine)
    DeliveryOutcomes().register(host.consumer)
    host.components |= {"templates": templates, "applications": applications, "resource_server": resource_server}
    host.routers += [
        api.build_router(templates, applications, resource_server.authorizer, settings.max_go_live_tenants),
        page.build_router(applications, resource_server.authorizer),
    ]
    host.background += resource_server.background()
    host.app_setup += [install_auth_errors, api.install_error_handlers]
    return host
