"""Settings of the token service (environment prefix `VETGATE_TOKEN_`)."""

import base64
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from vetgate_platform.settings import ServiceSettings


class TokenSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_TOKEN_", extra="ignore")

    service_name: str = "token"
    port: int = 8001
    access_token_ttl: int = Field(default=36_000, description="Seconds; 10 h like the platform we follow")
    key_rotation_days: int = Field(default=30, description="A new signing key this often; old keys stay published")
    key_encryption_key: str = Field(
        default="", description="base64 of 32 bytes: encrypts signing keys at rest (required outside dev)"
    )
    secret_pepper: str = Field(default="", description="base64: keys the stored client-secret digests")
    api_key_check_interval: float = Field(
        default=5.0, description="Seconds between checks of the API-key policy (deadline jobs, reminders)"
    )
    api_key_usage_flush_interval: float = Field(
        default=2.0, description="Seconds between batched writes of API-key last-used times and counts"
    )
    seed_file: Path | None = Field(
        default=None, description="dev-credentials.json whose identities are registered at start (dev stack)"
    )

    def key_encryption_key_bytes(self) -> bytes:
        return _required_key(self.key_encryption_key, "VETGATE_TOKEN_KEY_ENCRYPTION_KEY", self.dev_mode)

    def pepper_bytes(self) -> bytes:
        return _required_key(self.secret_pepper, "VETGATE_TOKEN_SECRET_PEPPER", self.dev_mode)


_EPHEMERAL: dict[str, bytes] = {}


def _required_key(value: str, name: str, dev_mode: bool) -> bytes:
    if value:
        return base64.b64decode(value)
    if not dev_mode:
        raise ValueError(f"{name} must be set (base64 of 32 random bytes)")
    # Dev/tests without the variable: a per-process key (keys and secrets do not survive a restart).
    return _EPHEMERAL.setdefault(name, secrets.token_bytes(32))
