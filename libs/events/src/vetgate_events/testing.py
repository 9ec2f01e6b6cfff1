"""A throwaway event for tests and benchmarks of the backbone, bound to a topic of the caller's choosing."""

from __future__ import annotations

from datetime import UTC, datetime

from vetgate_events.base import IntegrationEvent


class Pinged(IntegrationEvent):
    """Not part of the catalogue: :func:`pinged_on` binds a subclass to a fresh topic per test."""

    topic = "test.pings.v1"
    aggregate: str
    seq: int
    at: datetime

    def partition_key(self) -> str:
        return self.aggregate


def pinged_on(topic: str) -> type[Pinged]:
    return type("Pinged", (Pinged,), {"topic": topic, "__module__": __name__})


def ping(event_cls: type[Pinged], aggregate: str, seq: int) -> Pinged:
    return event_cls(aggregate=aggregate, seq=seq, at=datetime.now(UTC))
