"""Dead-lettering: the original record, untouched, plus why and where it came from."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, ConsumerRecord
from vetgate_events.topics import dlq_topic

ERROR_HEADER = "x-error"
ORIGIN_TOPIC = "x-origin-topic"
ORIGIN_PARTITION = "x-origin-partition"
ORIGIN_OFFSET = "x-origin-offset"
CONSUMER_GROUP = "x-consumer-group"
ORIGIN_HEADERS = {ORIGIN_TOPIC, ORIGIN_PARTITION, ORIGIN_OFFSET, ERROR_HEADER, CONSUMER_GROUP}


async def dead_letter(
    producer: AIOKafkaProducer, group: str, record: ConsumerRecord[bytes, bytes], reason: str
) -> None:
    """Publish ``record`` to the group's DLQ and wait for the broker's ack (the caller commits after)."""
    headers = [(k, v) for k, v in (record.headers or ()) if k not in ORIGIN_HEADERS]
    headers += [
        (ERROR_HEADER, reason[:2000].encode()),
        (ORIGIN_TOPIC, record.topic.encode()),
        (ORIGIN_PARTITION, str(record.partition).encode()),
        (ORIGIN_OFFSET, str(record.offset).encode()),
        (CONSUMER_GROUP, group.encode()),
    ]
    await producer.send_and_wait(dlq_topic(group), record.value, key=record.key, headers=headers)
