"""Settings of the provisioning service (environment prefix `VETGATE_PROVISIONING_`)."""

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class ProvisioningSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_PROVISIONING_", extra="ignore")

    service_name: str = "provisioning"
    port: int = 8003
    secret_overlap_seconds: int = Field(
        default=86_400, ge=0, description="After a rotation the previous client secret keeps working this long"
    )
    max_secret_overlap_seconds: int = Field(
        default=30 * 86_400, ge=0, description="The longest overlap a rotation request may ask for"
    )

    @model_validator(mode="after")
    def _default_overlap_within_max(self) -> Self:
        if self.secret_overlap_seconds > self.max_secret_overlap_seconds:
            raise ValueError("VETGATE_PROVISIONING_SECRET_OVERLAP_SECONDS exceeds the maximum overlap")
        return self
