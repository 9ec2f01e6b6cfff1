"""Settings of the catalogue service (environment prefix `VETGATE_CATALOGUE_`)."""

from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class CatalogueSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_CATALOGUE_", extra="ignore")

    service_name: str = "catalogue"
    port: int = 8002
