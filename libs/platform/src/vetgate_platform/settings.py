"""Settings every service shares. Each service subclasses :class:`ServiceSettings` with its own env prefix.

``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are deliberately unprefixed: they name shared
infrastructure, and operators point the whole platform at it with two variables.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vetgate_platform.sealing import SealingPublicKey


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "vetgate"
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str | None = Field(
        default=None, description="How integrators reach this service; defaults to http://host:port"
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"),
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/vetgate",
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
    )
    db_schema: str = Field(default="", description="Postgres schema owned by this service")
    consumer_group: str = Field(default="", description="Kafka consumer group; defaults to the service name")
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))
    token_base_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=AliasChoices("VETGATE_TOKEN_BASE_URL", "token_base_url"),
        description="The token service's public base: resource servers trust issuers <base>/<provet_id>/oauth2",
    )
    notifier_public_key: str = Field(
        default="",
        validation_alias=AliasChoices("VETGATE_NOTIFIER_PUBLIC_KEY", "notifier_public_key"),
        description="base64 X25519 public key: secrets put on the bus are sealed to the notifier with it",
    )
    dev_mode: bool = Field(
        default=False,
        validation_alias=AliasChoices("VETGATE_DEV", "dev_mode"),
        description="The embedded dev stack: allows loopback hooks and http URLs",
    )

    def sealing_public_key(self) -> SealingPublicKey:
        if not self.notifier_public_key:
            raise ValueError("VETGATE_NOTIFIER_PUBLIC_KEY must be set (the notifier's sealing public key)")
        return SealingPublicKey.from_base64(self.notifier_public_key)

    @property
    def group(self) -> str:
        return self.consumer_group or self.service_name

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service_name

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"
