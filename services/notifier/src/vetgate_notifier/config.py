"""Settings of the notifier service (environment prefix `VETGATE_NOTIFIER_`)."""

from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    port: int = 8004
