"""Times on the command line are UTC unless they, or --tz, say otherwise."""

from datetime import UTC, datetime

import pytest
from vetgate_ops.times import parse_time


def test_a_time_without_an_offset_is_utc() -> None:
    assert parse_time("2026-11-27T10:00") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert parse_time("2026-11-27T10:00:00Z") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_an_offset_or_a_zone_is_honoured() -> None:
    assert parse_time("2026-11-27T12:00+02:00") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert parse_time("2026-11-27T12:00", tz="Europe/Helsinki") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert parse_time("2026-07-27T12:00", tz="Europe/Helsinki") == datetime(2026, 7, 27, 9, 0, tzinfo=UTC)


def test_relative_times() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert parse_time("90m ago", now=now) == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    assert parse_time("2d ago", now=now) == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_nonsense_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday-ish")
    with pytest.raises(ValueError, match="IANA"):
        parse_time("2026-11-27T10:00", tz="Mars/Olympus")
