"""Vetgate's integration events: versioned pydantic models, their topics and the CloudEvents envelope."""

from vetgate_events.base import IntegrationEvent
from vetgate_events.envelope import Envelope, EnvelopeError, envelope_for, parse_envelope
from vetgate_events.registry import ALL_EVENTS, EVENTS_BY_TYPE, event_class

__all__ = [
    "ALL_EVENTS",
    "EVENTS_BY_TYPE",
    "Envelope",
    "EnvelopeError",
    "IntegrationEvent",
    "envelope_for",
    "event_class",
    "parse_envelope",
]
