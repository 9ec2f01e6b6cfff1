"""What one attempt's answer means: delivered, worth retrying, or a permanent failure."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class AttemptResult:
    """One attempt, as the delivery log shows it. Never carries a secret or a response body."""

    verdict: Verdict
    latency_ms: int
    status_code: int | None = None
    smtp_reply: str | None = None
    error: str | None = None
    retry_after: float | None = None


# Request Timeout and Too Many Requests are the receiver asking for another try.
_RETRYABLE_4XX = frozenset({408, 429})


def http_verdict(status: int) -> Verdict:
    """Only 2xx delivers. 3xx fails (redirects are never followed) and is retried like 5xx; other 4xx
    mean the receiver refuses this request as it is, so trying again cannot help."""
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return Verdict.PERMANENT
    return Verdict.RETRY


def smtp_verdict(code: int) -> Verdict:
    """RFC 5321 §4.2.1: 2yz done, 4yz transient (try again), 5yz permanent."""
    if 200 <= code < 300:
        return Verdict.DELIVERED
    if 500 <= code < 600:
        return Verdict.PERMANENT
    return Verdict.RETRY


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
