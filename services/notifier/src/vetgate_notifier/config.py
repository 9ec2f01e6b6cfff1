"""Settings of the notifier service (environment prefix `VETGATE_NOTIFIER_`)."""

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    port: int = 8004
    # Unprefixed like DATABASE_URL: the dev stack's SMTP sink (or Mailpit in compose) is shared.
    smtp_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("VETGATE_SMTP_HOST", "smtp_host"))
    smtp_port: int = Field(default=1025, validation_alias=AliasChoices("VETGATE_SMTP_PORT", "smtp_port"))
