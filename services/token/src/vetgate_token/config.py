"""Settings of the token service (environment prefix `VETGATE_TOKEN_`)."""

from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class TokenSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_TOKEN_", extra="ignore")

    service_name: str = "token"
    port: int = 8001
