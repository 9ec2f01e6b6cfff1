"""Points in time on the command line: ISO 8601, UTC unless the text or ``--tz`` names a zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_AGO = re.compile(r"^(\d+)\s*(s|m|h|d)\s*ago$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str, *, tz: str | None = None, now: datetime | None = None) -> datetime:
    """``2026-11-27T10:00``, ``2026-11-27 10:00:00+02:00``, ``2026-11-27T10:00Z``, or ``90m ago``.

    A time without an offset is UTC, or in ``tz`` (an IANA zone such as ``Europe/Helsinki``) when given.
    """
    value = text.strip()
    ago = _AGO.match(value)
    if ago:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use ISO 8601 like 2026-11-27T10:00:00Z, or '90m ago')") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(tz))
    return moment.astimezone(UTC)


def _zone(tz: str | None) -> tzinfo:
    if tz is None:
        return UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name like Europe/Helsinki)") from None


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)
