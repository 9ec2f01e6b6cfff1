"""CloudEvents 1.0 in Kafka binary content mode: attributes in ``ce_*`` headers, the event as the body."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vetgate_events.base import IntegrationEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

Headers = list[tuple[str, bytes]]


class EnvelopeError(ValueError):
    """The Kafka record is not a Vetgate CloudEvent (missing or unreadable attributes)."""


@dataclass(frozen=True)
class Envelope:
    """The CloudEvents attributes of one record, plus the raw body."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str | None
    body: bytes
    traceparent: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def to_headers(self) -> Headers:
        headers: Headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        headers.extend((k, v.encode()) for k, v in self.extra_headers.items())
        return headers


def envelope_for(
    event: IntegrationEvent,
    *,
    source: str,
    event_id: str | None = None,
    traceparent: str | None = None,
) -> Envelope:
    """Wrap an event for publishing. ``event_id`` must be stable for the same fact (retries, replays)."""
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        type=event.event_type(),
        source=source,
        time=datetime.now(UTC),
        subject=event.ce_subject(),
        body=event.model_dump_json().encode(),
        traceparent=traceparent,
    )


_KNOWN = {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "traceparent", "content-type"}


def decode_headers(raw: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """Headers as text. Undecodable bytes are replaced, never fatal: a bad header is a DLQ reason."""
    return {k: (v or b"").decode("utf-8", errors="replace") for k, v in raw}


def parse_envelope(raw_headers: Sequence[tuple[str, bytes | None]], body: bytes | None) -> Envelope:
    """Read the CloudEvents attributes of a record; :class:`EnvelopeError` says what is wrong."""
    headers = decode_headers(raw_headers)
    missing = [h for h in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time") if not headers.get(h)]
    if missing:
        raise EnvelopeError(f"missing CloudEvents header(s): {', '.join(missing)}")
    if headers["ce_specversion"] != SPEC_VERSION:
        raise EnvelopeError(f"unsupported ce_specversion {headers['ce_specversion']!r}")
    try:
        time = datetime.fromisoformat(headers["ce_time"])
    except ValueError as exc:
        raise EnvelopeError(f"ce_time is not an ISO 8601 timestamp: {exc}") from None
    return Envelope(
        id=headers["ce_id"],
        type=headers["ce_type"],
        source=headers["ce_source"],
        time=time,
        subject=headers.get("ce_subject"),
        body=body or b"",
        traceparent=headers.get("traceparent"),
        extra_headers={k: v for k, v in headers.items() if k not in _KNOWN and not k.startswith("ce_")},
    )
