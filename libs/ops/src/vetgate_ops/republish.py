"""Republishing a bounded range of records (or a DLQ back to where its records came from).

The range's end is snapshotted when the job is made, so records arriving meanwhile are not chased. The job
is a small JSON file holding, per partition, the next offset to copy; it is saved after each acknowledged
batch, so an interrupted job resumes where it stopped (a batch in flight at the interruption may be sent
twice: consumers dedupe by ``ce_id``). Every copy keeps its key, body and CloudEvents headers and carries
its provenance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from pydantic import BaseModel, Field
from vetgate_messaging.dlq import ORIGIN_HEADERS, ORIGIN_TOPIC
from vetgate_messaging.inbox import REPROCESS_HEADER

from vetgate_ops.cluster import Cluster

JOB_HEADER = "vetgate-replay-job"
FROM_TOPIC = "vetgate-replay-origin-topic"
FROM_PARTITION = "vetgate-replay-origin-partition"
FROM_OFFSET = "vetgate-replay-origin-offset"
_OURS = {JOB_HEADER, FROM_TOPIC, FROM_PARTITION, FROM_OFFSET, REPROCESS_HEADER}


class PartitionRange(BaseModel):
    start: int
    end: int = Field(description="Exclusive; snapshotted when the job was made")
    next: int

    @property
    def remaining(self) -> int:
        return max(0, self.end - self.next)


class RepublishJob(BaseModel):
    job_id: str
    source_topic: str
    target_topic: str | None = Field(description="None: each record goes back to its x-origin-topic (DLQ drain)")
    ranges: dict[int, PartitionRange]
    rate: float | None = Field(default=None, description="Records per second at most")
    reprocess: bool = Field(default=False, description="Stamp vetgate-reprocess: consumers run handlers again")
    created_at: datetime
    copied: int = 0
    finished_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(r.end - r.start for r in self.ranges.values())

    @property
    def remaining(self) -> int:
        return sum(r.remaining for r in self.ranges.values())

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RepublishJob:
        return cls.model_validate_json(path.read_text())


def new_job(
    cluster: Cluster,
    source_topic: str,
    *,
    target_topic: str | None,
    partitions: list[int] | None = None,
    start_offsets: dict[int, int] | None = None,
    end_offsets: dict[int, int] | None = None,
    rate: float | None = None,
    reprocess: bool = False,
) -> RepublishJob:
    """A job over ``[start, end)`` per partition; defaults: from the earliest record to the current end."""
    parts = cluster.all_partitions([source_topic], partitions)
    first, last = cluster.earliest(parts), cluster.latest(parts)
    ranges = {}
    for topic, p in parts:
        start = max((start_offsets or {}).get(p, first[(topic, p)]), first[(topic, p)])
        end = min((end_offsets or {}).get(p, last[(topic, p)]), last[(topic, p)])
        ranges[p] = PartitionRange(start=start, end=max(start, end), next=start)
    return RepublishJob(
        job_id=f"replay-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        source_topic=source_topic,
        target_topic=target_topic,
        ranges=ranges,
        rate=rate,
        reprocess=reprocess,
        created_at=datetime.now(UTC),
    )


Progress = Callable[[int], None]


def run_job(cluster: Cluster, job: RepublishJob, job_file: Path, *, progress: Progress | None = None) -> RepublishJob:
    """Copy every remaining record of the job; saves progress to ``job_file`` after each acknowledged batch."""
    pending = {p: r for p, r in job.ranges.items() if r.remaining}
    if not pending:
        return _finish(job, job_file)
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap_servers,
            "group.id": f"vetgate-ops-{job.job_id}",  # never commits; librdkafka needs a group id to assign
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            # Java's (and aiokafka's) key hashing: a copy lands in the partition its key's events live in.
            "partitioner": "murmur2_random",
        }
    )
    consumer.assign([TopicPartition(job.source_topic, p, r.next) for p, r in pending.items()])
    started, sent_since_start = time.monotonic(), 0
    try:
        while pending:
            batch = [m for m in consumer.consume(num_messages=1000, timeout=1.0) if _useful(m, pending)]
            for message in batch:
                topic, value, key, headers = _copy(job, message)
                producer.produce(topic, value=value, key=key, headers=list[tuple[str, str | bytes | None]](headers))
                producer.poll(0)
                sent_since_start += 1
                if job.rate:
                    time.sleep(max(0.0, started + sent_since_start / job.rate - time.monotonic()))
            if producer.flush(30) != 0:
                raise RuntimeError("the broker did not acknowledge every copy within 30 s; resume the job")
            for message in batch:
                job.ranges[message.partition() or 0].next = (message.offset() or 0) + 1
            job.copied += len(batch)
            job.save(job_file)
            if progress and batch:
                progress(len(batch))
            pending = {p: r for p, r in job.ranges.items() if r.remaining}
    finally:
        consumer.close()
    return _finish(job, job_file)


def _useful(message: Message, pending: dict[int, PartitionRange]) -> bool:
    """A record inside the job's range; a partition whose log end (or range end) is reached is closed."""
    error = message.error()
    partition, offset = message.partition() or 0, message.offset() or 0
    window = pending.get(partition)
    if error is not None:
        if error.code() != KafkaError._PARTITION_EOF:
            raise RuntimeError(f"reading {message.topic()}: {error}")
        if window is not None:
            window.next = window.end  # nothing left below the snapshot end (records gone or control records)
        return False
    if window is None:
        return False
    if offset >= window.end:
        window.next = window.end
        return False
    return True


def headers_of(message: Message) -> list[tuple[str, bytes]]:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs if v is not None]


def _copy(job: RepublishJob, message: Message) -> tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]:
    headers = [(k, v) for k, v in headers_of(message) if k not in _OURS]
    if job.target_topic is None:  # a DLQ drain: back to the topic the record came from, minus the DLQ's headers
        origin = dict(headers).get(ORIGIN_TOPIC)
        if not origin:
            raise RuntimeError(f"{message.topic()}[{message.partition()}]@{message.offset()} has no {ORIGIN_TOPIC}")
        target = origin.decode()
        headers = [(k, v) for k, v in headers if k not in ORIGIN_HEADERS]
    else:
        target = job.target_topic
    headers += [
        (JOB_HEADER, job.job_id.encode()),
        (FROM_TOPIC, str(message.topic()).encode()),
        (FROM_PARTITION, str(message.partition()).encode()),
        (FROM_OFFSET, str(message.offset()).encode()),
    ]
    if job.reprocess:
        headers.append((REPROCESS_HEADER, job.job_id.encode()))
    return target, message.value(), message.key(), headers


def _finish(job: RepublishJob, job_file: Path) -> RepublishJob:
    if job.finished_at is None:
        job.finished_at = datetime.now(UTC)
        job.save(job_file)
    return job


def drain_dlq_job(cluster: Cluster, group: str) -> RepublishJob:
    """Every record now in ``<group>.dlq.v1``, bound back to its origin topic."""
    from vetgate_events.topics import dlq_topic

    return new_job(cluster, dlq_topic(group), target_topic=None)


def empty_drained(cluster: Cluster, job: RepublishJob) -> None:
    """After a finished drain, delete what was copied from the DLQ (records that arrived since stay)."""
    if job.finished_at is None or job.remaining:
        raise RuntimeError("the drain has not finished: resume it first")
    cluster.delete_before({(job.source_topic, p): r.end for p, r in job.ranges.items() if r.end > r.start})
