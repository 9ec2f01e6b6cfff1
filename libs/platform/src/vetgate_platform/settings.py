"""Settings every service shares. Each service subclasses :class:`ServiceSettings` with its own env prefix.

``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are deliberately unprefixed: they name shared
infrastructure, and operators point the whole platform at it with two variables.
"""

from __future__ import annotations

from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vetgate_platform.sealing import SealingPublicKey

MAX_REQUEST_BYTES = 1 << 20
"""No request of ours needs more than a few kilobytes; without a limit one client could fill the memory."""


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
    introspection_token_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("VETGATE_INTROSPECTION_TOKEN_URL", "introspection_token_url"),
        description="Token URL of the support client resource servers introspect API keys with; unset: keys refused",
    )
    introspection_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("VETGATE_INTROSPECTION_CLIENT_ID", "introspection_client_id"),
        description="The support client's id (with VETGATE_INTROSPECTION_TOKEN_URL and _CLIENT_SECRET)",
    )
    introspection_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("VETGATE_INTROSPECTION_CLIENT_SECRET", "introspection_client_secret"),
        description="The support client's secret",
    )
    api_key_usage_interval: float = Field(
        default=5.0,
        gt=0,
        validation_alias=AliasChoices("VETGATE_API_KEY_USAGE_INTERVAL", "api_key_usage_interval"),
        description="Seconds between reports of API-key uses to the token service",
    )
    max_request_bytes: int = Field(
        default=MAX_REQUEST_BYTES,
        gt=0,
        validation_alias=AliasChoices("VETGATE_MAX_REQUEST_BYTES", "max_request_bytes"),
        description="Request bodies over this are refused with 413 before they are read",
    )
    dev_mode: bool = Field(
        default=False,
        validation_alias=AliasChoices("VETGATE_DEV", "dev_mode"),
        description="The embedded dev stack: allows loopback hooks and http URLs",
    )

    @model_validator(mode="after")
    def _introspection_all_or_nothing(self) -> Self:
        values = (self.introspection_token_url, self.introspection_client_id, self.introspection_client_secret)
        given = [bool(v if not isinstance(v, SecretStr) else v.get_secret_value()) for v in values]
        if any(given) and not all(given):
            raise ValueError(
                "VETGATE_INTROSPECTION_TOKEN_URL, VETGATE_INTROSPECTION_CLIENT_ID and"
                " VETGATE_INTROSPECTION_CLIENT_SECRET are set together, or not at all"
            )
        return self

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
