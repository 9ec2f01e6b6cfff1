"""Settings of the notifier service (environment prefix `VETGATE_NOTIFIER_`)."""

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict
from vetgate_platform.sealing import SealingKeyring
from vetgate_platform.settings import ServiceSettings

# Immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 27.6 h of trying, like Svix's schedule.
DEFAULT_SCHEDULE = [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VETGATE_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    port: int = 8004
    # Unprefixed like DATABASE_URL: the dev stack's SMTP sink (or Mailpit in compose) is shared.
    smtp_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("VETGATE_SMTP_HOST", "smtp_host"))
    smtp_port: int = Field(default=1025, validation_alias=AliasChoices("VETGATE_SMTP_PORT", "smtp_port"))
    smtp_starttls: bool = Field(default=False, description="Require STARTTLS (never downgraded when set)")
    smtp_implicit_tls: bool = Field(default=False, description="TLS from the first byte (port 465)")
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = Field(default=30.0, description="Seconds for one whole SMTP conversation")
    mail_from: str = "Vetgate <no-reply@vetgate.local>"
    sealing_keys: str = Field(
        default="",
        validation_alias=AliasChoices("VETGATE_NOTIFIER_SEALING_KEYS", "sealing_keys"),
        description="Comma-separated base64 X25519 private keys, current first: they open sealed secrets",
    )
    retry_schedule: list[float] = Field(
        default_factory=lambda: list(DEFAULT_SCHEDULE),
        description="Seconds to wait before each attempt (JSON list); its length is the number of attempts",
    )
    retry_jitter: float = Field(default=0.1, description="Each wait varies by up to this fraction either way")
    hook_timeout: float = Field(default=5.0, description="Seconds for one whole webhook attempt")
    allow_loopback_hooks: bool | None = Field(
        default=None, description="Hooks to loopback addresses (and plain http); defaults to dev_mode"
    )
    concurrency: int = Field(default=50, description="Deliveries attempted at once per replica")
    claim_lease: float = Field(default=120.0, description="Seconds a claimed delivery is held by its attempt")
    poll_interval: float = Field(default=1.0, description="Seconds between scans for due work (NOTIFY wakes sooner)")
    reveal_ttl: float = Field(default=7 * 86400.0, description="Seconds a one-time secret reveal link stays valid")
    key_notice_quiet: float = Field(
        default=5.0, description="Seconds a revocation or reminder batch must be quiet before its owners are mailed"
    )

    @property
    def hooks_may_use_loopback(self) -> bool:
        return self.dev_mode if self.allow_loopback_hooks is None else self.allow_loopback_hooks

    def keyring(self) -> SealingKeyring:
        if self.sealing_keys:
            return SealingKeyring.from_base64(self.sealing_keys)
        if not self.dev_mode:
            raise ValueError("VETGATE_NOTIFIER_SEALING_KEYS must be set (the notifier's sealing private keys)")
        return SealingKeyring.generate()  # dev without the variable: nothing sealed elsewhere opens here
