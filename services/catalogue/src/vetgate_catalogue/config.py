"""Settings of the catalogue service (environment prefix `VETGATE_CATALOGUE_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class CatalogueSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_CATALOGUE_", extra="ignore")

    service_name: str = "catalogue"
    port: int = 8002

    webhook_secret_overlap_seconds: int = Field(
        default=86_400, description="After a rotation the previous whsec_ secret keeps signing this long"
    )
    max_go_live_tenants: int = Field(default=50_000, description="Tenants one publish call may add the template to")
