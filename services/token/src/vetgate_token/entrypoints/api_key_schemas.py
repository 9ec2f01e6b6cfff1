"""Request and answer bodies of the API-key admin API (ARCHITECTURE.md, "Legacy API keys")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from vetgate_token.domain.api_keys import DEFAULT_REMINDER_DAYS, Environment, RetirementPolicy

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewApiKey(_Strict):
    name: Text
    integration: Text | None = None
    owner_email: EmailStr | None = None


def _in_future(value: datetime) -> datetime:
    if value <= datetime.now(value.tzinfo):
        raise ValueError("must be in the future")
    return value


class NewException(_Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
    expires_at: Annotated[AwareDatetime, AfterValidator(_in_future)]


class PolicyIn(_Strict):
    creation_cutoff: AwareDatetime | None = None
    revocation_deadline: AwareDatetime | None = None
    reminder_days: list[Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_DAYS), max_length=10
    )


class EnvironmentIn(_Strict):
    environment: Environment


class RevocationRequest(_Strict):
    dry_run: bool
    environment: Environment | None = Field(default=None, description="None: every environment")


class KeyUse(_Strict):
    api_key_id: UUID
    count: Annotated[int, Field(ge=1, le=10_000_000)]
    last_used_at: AwareDatetime


class UsageReport(_Strict):
    uses: list[KeyUse] = Field(max_length=100_000)


def key_out(record: dict[str, Any]) -> dict[str, Any]:
    """A key as the API shows it: never the key, only its first characters."""
    return {
        "id": str(record["id"]),
        "provet_id": record["provet_id"],
        "environment": record["environment"],
        "name": record["name"],
        "integration": record["integration"],
        "owner_email": record["owner_email"],
        "key_prefix": record["key_prefix"],
        "under_exception": record["under_exception"] is not None,
        "created_at": record["created_at"].isoformat(),
        "last_used_at": iso(record["last_used_at"]),
        "use_count": record["use_count"],
        "revoked_at": iso(record["revoked_at"]),
        "revocation_reason": record["revocation_reason"],
    }


def policy_out(policy: RetirementPolicy) -> dict[str, Any]:
    return {
        "environment": policy.environment,
        "creation_cutoff": iso(policy.creation_cutoff),
        "revocation_deadline": iso(policy.revocation_deadline),
        "reminder_days": list(policy.reminder_days),
    }


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """A database row as JSON: instants in ISO 8601."""
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
