"""The base of every integration event: a versioned, past-tense pydantic model.

Producers build events with ``extra="forbid"`` so a typo never reaches the bus; consumers parse with
:meth:`IntegrationEvent.parse_lenient`, which ignores fields added later in the same major version.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict


class IntegrationEvent(BaseModel):
    """An event other services may rely on. Subclasses set the class variables below."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: ClassVar[str]
    """The Kafka topic the event travels on (part of the public contract)."""
    major_version: ClassVar[int] = 1
    """Breaking changes need a new major version (and a new class); additive ones do not."""
    schema_version: ClassVar[str] = "1.0"
    """Bumped (minor) for each additive change within the major version."""

    @classmethod
    def event_type(cls) -> str:
        """The CloudEvents ``type``, e.g. ``vetgate.IntegrationActivated.v1``."""
        return f"vetgate.{cls.__name__}.v{cls.major_version}"

    def partition_key(self) -> str:
        """The aggregate id: events of one aggregate share a key, so they stay ordered."""
        raise NotImplementedError

    def ce_subject(self) -> str | None:
        """The tenant (provet_id) the event concerns, when there is one (CloudEvents ``subject``)."""
        provet_id = getattr(self, "provet_id", None)
        return None if provet_id is None else str(provet_id)

    @classmethod
    def parse_lenient(cls, data: bytes | str) -> Self:
        """Parse as a consumer: unknown (newer, additive) fields are ignored."""
        # Per-call `extra` applies to nested models too (pydantic >= 2.12).
        return cls.model_validate_json(data, extra="ignore")

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return cls.model_json_schema(mode="serialization")
