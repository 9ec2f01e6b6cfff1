"""Republishing a bounded range, resuming an interrupted job, draining a DLQ, and reading records back."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events.topics import dlq_topic
from vetgate_messaging.dlq import ERROR_HEADER, ORIGIN_TOPIC
from vetgate_messaging.inbox import REPROCESS_HEADER
from vetgate_messaging.testing import read_topic as all_records
from vetgate_ops.cluster import Cluster
from vetgate_ops.records import Filters, read
from vetgate_ops.republish import FROM_OFFSET, JOB_HEADER, RepublishJob, drain_dlq_job, empty_drained, new_job, run_job


async def produce(
    infra: Infrastructure, topic: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def envelope(i: int, tenant: int = 1001) -> list[tuple[str, bytes]]:
    return [("ce_id", f"id-{i}".encode()), ("ce_type", b"vetgate.Pinged.v1"), ("ce_subject", str(tenant).encode())]


@pytest.fixture
async def topic(infra: Infrastructure) -> str:
    name = f"ops-copy-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, {name: 3, f"{name}-target": 3})
    rows = [(f"key-{i % 5}".encode(), json.dumps({"seq": i}).encode(), envelope(i, 1001 + i % 2)) for i in range(60)]
    await produce(infra, name, rows)
    return name


async def test_a_range_is_copied_once_with_provenance_in_key_order(
    infra: Infrastructure, topic: str, tmp_path: Path
) -> None:
    cluster = Cluster(infra.kafka_bootstrap)
    job = await asyncio.to_thread(new_job, cluster, topic, target_topic=f"{topic}-target", reprocess=True)
    assert job.total == 60
    await produce(infra, topic, [(b"late", b"{}", envelope(999))])  # after the snapshot: not chased

    done = await asyncio.to_thread(run_job, cluster, job, tmp_path / "job.json")
    assert done.copied == 60 and done.finished_at is not None
    copies = await all_records(infra.kafka_bootstrap, f"{topic}-target")
    assert len(copies) == 60
    originals = {(r.partition, r.offset): r for r in await all_records(infra.kafka_bootstrap, topic)}
    for copy in copies:
        headers = dict(copy.headers)
        assert headers[JOB_HEADER] == job.job_id.encode() and headers[REPROCESS_HEADER] == job.job_id.encode()
        assert copy.partition == int(headers["vetgate-replay-origin-partition"]), "same key → same partition"
        original = originals[(copy.partition, int(headers[FROM_OFFSET]))]
        assert (copy.key, copy.value, headers["ce_id"]) == (
            original.key,
            original.value,
            dict(original.headers)["ce_id"],
        )
    by_key: dict[bytes, list[int]] = {}
    for copy in sorted(copies, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(copy.key or b"", []).append(json.loads(copy.value or b"")["seq"])
    assert all(seqs == sorted(seqs) for seqs in by_key.values())


async def test_an_interrupted_job_resumes_without_copying_anything_twice(
    infra: Infrastructure, topic: str, tmp_path: Path
) -> None:
    cluster = Cluster(infra.kafka_bootstrap)
    job_file = tmp_path / "job.json"
    job = await asyncio.to_thread(new_job, cluster, topic, target_topic=f"{topic}-target", partitions=[0, 1])

    def interrupt(_: int) -> None:
        raise KeyboardInterrupt  # the operator's Ctrl-C, after the first acknowledged batch was saved

    with pytest.raises(KeyboardInterrupt):
        await asyncio.to_thread(run_job, cluster, job, job_file, progress=interrupt)
    saved = RepublishJob.load(job_file)
    assert 0 < saved.copied and saved.finished_at is None

    resumed = await asyncio.to_thread(run_job, cluster, saved, job_file)
    assert resumed.remaining == 0
    copies = await all_records(infra.kafka_bootstrap, f"{topic}-target")
    offsets = [
        (int(dict(c.headers)["vetgate-replay-origin-partition"]), int(dict(c.headers)[FROM_OFFSET])) for c in copies
    ]
    assert len(offsets) == len(set(offsets)) == job.total


async def test_a_dlq_drain_sends_records_home_and_empties_the_dlq(infra: Infrastructure, tmp_path: Path) -> None:
    group = f"ops-drain-{uuid.uuid4().hex[:8]}"
    origin = f"ops-origin-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, {origin: 2, dlq_topic(group): 1})
    dead = [(b"k", b'{"seq": 1}', [*envelope(1), (ERROR_HEADER, b"boom"), (ORIGIN_TOPIC, origin.encode())])]
    await produce(infra, dlq_topic(group), dead * 3)
    cluster = Cluster(infra.kafka_bootstrap)

    job = await asyncio.to_thread(drain_dlq_job, cluster, group)
    await asyncio.to_thread(run_job, cluster, job, tmp_path / "drain.json")
    await asyncio.to_thread(empty_drained, cluster, job)

    home = await all_records(infra.kafka_bootstrap, origin)
    assert len(home) == 3
    assert all(ERROR_HEADER not in dict(r.headers) and ORIGIN_TOPIC not in dict(r.headers) for r in home)
    dlq = [(dlq_topic(group), 0)]
    assert await asyncio.to_thread(cluster.earliest, dlq) == await asyncio.to_thread(cluster.latest, dlq)


async def test_reading_back_filters_and_masks_secrets(infra: Infrastructure) -> None:
    name = f"ops-read-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, {name: 1})
    body = {"client_id": "c1", "client_secret": "s3cr3t", "sealed_secret": {"ciphertext": "abc"}, "token_url": "u"}
    await produce(infra, name, [(b"a", json.dumps(body).encode(), envelope(1, 1001)), (b"b", b"{}", envelope(2, 1002))])
    cluster = Cluster(infra.kafka_bootstrap)

    shown = await asyncio.to_thread(lambda: list(read(cluster, name, filters=Filters(tenant=1001))))
    assert [s.key for s in shown] == ["a"]
    assert shown[0].body == {
        "client_id": "c1",
        "client_secret": "[redacted]",
        "sealed_secret": "[redacted]",
        "token_url": "u",
    }
    assert await asyncio.to_thread(lambda: [s.key for s in read(cluster, name, filters=Filters(key="b"))]) == ["b"]
