"""Legacy API keys and the policy that retires them (provet-reference.md, "Legacy API keys").

Dates are policy, not code: each environment has its own creation cut-off and revocation deadline,
which support can move (the real deadline moved once, from December 2023 to March 2024).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

Environment = Literal["production", "sandbox"]
ENVIRONMENTS: tuple[Environment, ...] = get_args(Environment)
DEFAULT_REMINDER_DAYS = (30, 7, 1)
KEY_PREFIX = "vgk_"
"""Marks a legacy key (as GitHub's ``ghp_`` does): secret scanners and the introspection endpoint tell it
from a JWT at a glance."""
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6
KEY_PERMISSIONS_NOTE = "a key acts with the rights of the tenant's built-in Users group"
_IDS = uuid.UUID("6f1c4a52-5d0e-4c61-9a55-3b0c1f7e2a10")  # namespace of the ids derived below

MIGRATION_HINT = (
    "Integrations use OAuth 2.0 instead: add the integration from the catalogue to receive client credentials"
)


def new_key() -> str:
    """256 bits from the OS's CSPRNG, URL-safe, with the recognisable prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def key_revoked_event_id(api_key_id: str) -> uuid.UUID:
    """A key is revoked once, so its KeyRevoked has one id: a re-run of a job cannot announce it twice."""
    return uuid.uuid5(_IDS, f"key-revoked:{api_key_id}")


def reminder_batch_id(environment: str, deadline: datetime, days_before: int) -> uuid.UUID:
    return uuid.uuid5(_IDS, f"reminder:{environment}:{deadline.isoformat()}:{days_before}")


def reminder_event_id(batch_id: uuid.UUID, api_key_id: str) -> uuid.UUID:
    return uuid.uuid5(_IDS, f"reminder-key:{batch_id}:{api_key_id}")


@dataclass(frozen=True)
class RetirementPolicy:
    environment: Environment
    creation_cutoff: datetime | None = None
    revocation_deadline: datetime | None = None
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS

    def creation_refusal(self, now: datetime, *, has_exception: bool) -> str | None:
        """Why a key may not be created now, or None. After the deadline not even an exception helps:
        the environment's keys are retired, and a new one would outlive the revocation job."""
        deadline, cutoff = self.revocation_deadline, self.creation_cutoff
        if deadline is not None and now >= deadline:
            return (
                f"API keys of the {self.environment} environment were retired on {deadline:%Y-%m-%d}. {MIGRATION_HINT}"
            )
        if cutoff is not None and now >= cutoff and not has_exception:
            return (
                f"API key creation in the {self.environment} environment ended on {cutoff:%Y-%m-%d}. "
                f"{MIGRATION_HINT}, or ask support for a time-limited exception"
            )
        return None

    def deadline_reached(self, now: datetime) -> bool:
        return self.revocation_deadline is not None and now >= self.revocation_deadline

    def due_reminder(self, now: datetime) -> int | None:
        """The reminder point (days before the deadline) that applies now: the nearest one passed.

        Points passed earlier without a reminder (the policy was set late) are not sent any more: owners
        get the most urgent reminder, not three at once."""
        deadline = self.revocation_deadline
        if deadline is None or now >= deadline:
            return None
        passed = [days for days in self.reminder_days if now >= deadline - timedelta(days=days)]
        return min(passed) if passed else None
