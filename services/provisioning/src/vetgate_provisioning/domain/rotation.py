"""Client secret rotation: the previous secret keeps working for an overlap window, then stops."""

from __future__ import annotations

from datetime import datetime, timedelta

from vetgate_provisioning.domain.errors import FieldError, InvalidRequest


def previous_secret_valid_until(now: datetime, overlap_seconds: int, max_overlap_seconds: int) -> datetime:
    """When the secret being replaced stops working. Zero ends it at once (a leaked secret)."""
    if not 0 <= overlap_seconds <= max_overlap_seconds:
        raise InvalidRequest(
            "overlap out of range",
            [FieldError("overlap_seconds", f"must be between 0 and {max_overlap_seconds}")],
        )
    return now + timedelta(seconds=overlap_seconds)
