"""Settings every service shares. Each service subclasses :class:`ServiceSettings` with its own env prefix.

``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are deliberately unprefixed: they name shared
infrastructure, and operators point the whole platform at it with two variables.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    dev_mode: bool = Field(
        default=False,
        validation_alias=AliasChoices("VETGATE_DEV", "dev_mode"),
        description="The embedded dev stack: allows loopback hooks and http URLs",
    )

    @property
    def group(self) -> str:
        return self.consumer_group or self.service_name

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service_name

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"
