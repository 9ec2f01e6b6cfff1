"""Reading records back for people: a time range of a topic, filtered by key, event type or tenant."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from vetgate_ops.cluster import Cluster
from vetgate_ops.republish import headers_of
from vetgate_ops.times import from_millis, to_millis

# Anything that may hold a secret is shown as a marker, never its value (sealed values included).
_SECRET_KEY = re.compile(r"secret|password|token(?!_url)|api_key|sealed|whsec|authorization", re.IGNORECASE)


@dataclass(frozen=True)
class Filters:
    key: str | None = None
    event_type: str | None = None
    tenant: int | None = None

    def accept(self, key: bytes | None, headers: dict[str, str]) -> bool:
        if self.key is not None and (key or b"").decode(errors="replace") != self.key:
            return False
        if self.event_type is not None and self.event_type not in headers.get("ce_type", ""):
            return False
        return self.tenant is None or headers.get("ce_subject") == str(self.tenant)


@dataclass(frozen=True)
class Shown:
    """One record as an operator sees it: where it is, its envelope, and its body with secrets masked."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: str | None
    headers: dict[str, str]
    body: Any


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("[redacted]" if _SECRET_KEY.search(k) and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def read(
    cluster: Cluster,
    topic: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    filters: Filters = Filters(),
    limit: int | None = None,
) -> Iterator[Shown]:
    """Records of ``topic`` with timestamps in ``[since, until)``, partition by partition, up to the current end."""
    parts = cluster.all_partitions([topic])
    starts = cluster.offsets_at(parts, to_millis(since)) if since else cluster.earliest(parts)
    ends = cluster.offsets_at(parts, to_millis(until)) if until else cluster.latest(parts)
    pending = {p: ends[(t, p)] for t, p in parts if starts[(t, p)] < ends[(t, p)]}
    if not pending:
        return
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap_servers,
            "group.id": "vetgate-ops-reader",  # never commits
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(topic, p, starts[(topic, p)]) for p in pending])
    shown = 0
    try:
        while pending:
            for message in consumer.consume(num_messages=500, timeout=1.0):
                error = message.error()
                partition, offset = message.partition() or 0, message.offset() or 0
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"reading {topic}: {error}")
                    pending.pop(partition, None)  # the log's end: nothing more to show there
                    continue
                if partition not in pending:
                    continue
                if offset >= pending[partition]:
                    del pending[partition]
                    continue
                if offset + 1 >= pending[partition]:
                    del pending[partition]
                headers = {k: v.decode(errors="replace") for k, v in headers_of(message)}
                if not filters.accept(message.key(), headers):
                    continue
                yield _shown(message.topic() or topic, partition, offset, message, headers)
                shown += 1
                if limit is not None and shown >= limit:
                    return
    finally:
        consumer.close()


def _shown(topic: str, partition: int, offset: int, message: Any, headers: dict[str, str]) -> Shown:
    raw = message.value() or b""
    try:
        body: Any = redact(json.loads(raw))
    except ValueError:
        body = f"<{len(raw)} bytes, not JSON>"
    visible = {k: ("[redacted]" if _SECRET_KEY.search(k) else v) for k, v in headers.items()}
    key = message.key()
    return Shown(
        topic, partition, offset, from_millis(message.timestamp()[1]), key.decode() if key else None, visible, body
    )
