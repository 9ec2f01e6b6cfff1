"""Kafka client settings shared by relays and consumers."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer


def reliable_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """acks=all + idempotence: no loss, no broker-side duplicates from retries, order kept per partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,  # latency first; batches still form naturally while a request is in flight
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
    )
