"""The plaintext client secret is never logged, never on Kafka, never at rest: only its hash and the
copy sealed to the notifier leave the minting code."""

from __future__ import annotations

import logging

import pytest
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from vetgate_events.topics import PROVISIONING_CLIENTS, TOKEN_CREDENTIALS

from .provisioning_flows import ProvisioningService, activation, live_client, opened_secret, rotated


async def every_record_bytes(bootstrap: str, topic: str) -> bytes:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        raw = bytearray()
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    raw += (r.key or b"") + (r.value or b"") + b"".join(k.encode() + (v or b"") for k, v in r.headers)
        return bytes(raw)
    finally:
        await consumer.stop()


async def test_no_plaintext_secret_in_logs_on_kafka_or_in_the_database(
    provisioning: ProvisioningService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    activated = activation(1001)
    with structlog.testing.capture_logs() as structured:
        event, secret = await live_client(provisioning, activated)
        rotation = await provisioning.http.post(
            f"/v1/tenants/1001/applications/{activated.activation_id}/secret-rotations",
            headers=await provisioning.token.admin_headers(1001),
        )
        assert rotation.status_code == 202
    logged = repr(structured) + caplog.text
    assert event.client_id in logged, "the capture did see provisioning's log lines"
    assert secret not in logged

    rotation_event = await rotated(provisioning, event, rotation.json()["previous_secret_valid_until"])
    secrets = [secret, opened_secret(provisioning, rotation_event)]
    for topic in (PROVISIONING_CLIENTS, TOKEN_CREDENTIALS):
        raw = await every_record_bytes(provisioning.bootstrap, topic)
        assert event.client_id.encode() in raw
        for plaintext in secrets:
            assert plaintext.encode() not in raw, f"plaintext secret on {topic}"

    async with provisioning.host.engine.connect() as conn:
        dump = []
        for table in ("activations", "clients", "client_secrets", "virtual_users", "outbox"):
            dump += [repr(tuple(row)) for row in await conn.execute(text(f"SELECT * FROM {table}"))]
    at_rest = "\n".join(dump)
    assert event.client_id in at_rest
    for plaintext in secrets:
        assert plaintext not in at_rest
