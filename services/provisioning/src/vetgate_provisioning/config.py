"""Settings of the provisioning service (environment prefix `VETGATE_PROVISIONING_`)."""

from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class ProvisioningSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_PROVISIONING_", extra="ignore")

    service_name: str = "provisioning"
    port: int = 8003
