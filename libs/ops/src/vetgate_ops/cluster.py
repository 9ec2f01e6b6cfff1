"""What operators ask the cluster: topics, offsets, consumer groups — through librdkafka's admin client.

(aiokafka 0.14's admin client sends DescribeGroups v0, which Kafka 4 removed, and cannot alter a group's
offsets; confluent-kafka's AdminClient speaks current protocol versions and has both.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, OffsetSpec  # type: ignore[attr-defined]  # not in the stubs

Partition = tuple[str, int]
TIMEOUT = 15.0


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    earliest: int  # summed over partitions
    latest: int
    retention_ms: int | None

    @property
    def messages(self) -> int:
        return self.latest - self.earliest


@dataclass(frozen=True)
class GroupState:
    group: str
    state: str  # STABLE, EMPTY, DEAD (unknown group), PREPARING_REBALANCE, ...
    members: list[str]  # client id @ host of each live member


class Cluster:
    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.admin = AdminClient({"bootstrap.servers": bootstrap_servers})

    def topic_names(self) -> list[str]:
        return sorted(t for t in self.admin.list_topics(timeout=TIMEOUT).topics if not t.startswith("__"))

    def partitions(self, topic: str) -> list[int]:
        metadata = self.admin.list_topics(topic, timeout=TIMEOUT).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise LookupError(f"no topic {topic!r} on {self.bootstrap_servers}")
        return sorted(metadata.partitions)

    def all_partitions(self, topics: Iterable[str], only: Iterable[int] | None = None) -> list[Partition]:
        wanted = set(only) if only is not None else None
        return [(t, p) for t in topics for p in self.partitions(t) if wanted is None or p in wanted]

    def earliest(self, partitions: list[Partition]) -> dict[Partition, int]:
        return self._list_offsets(partitions, OffsetSpec.earliest())  # type: ignore[no-untyped-call]

    def latest(self, partitions: list[Partition]) -> dict[Partition, int]:
        return self._list_offsets(partitions, OffsetSpec.latest())  # type: ignore[no-untyped-call]

    def offsets_at(self, partitions: list[Partition], millis: int) -> dict[Partition, int]:
        """The first offset with a timestamp at or after ``millis``; the end offset where nothing is that new."""
        found = self._list_offsets(partitions, OffsetSpec.for_timestamp(millis))
        ends = self.latest(partitions)
        return {tp: (offset if offset >= 0 else ends[tp]) for tp, offset in found.items()}

    def _list_offsets(self, partitions: list[Partition], spec: OffsetSpec) -> dict[Partition, int]:
        if not partitions:
            return {}
        futures = self.admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions}, request_timeout=TIMEOUT)
        return {(tp.topic, tp.partition): future.result().offset for tp, future in futures.items()}

    def retention_ms(self, topic: str) -> int | None:
        futures = self.admin.describe_configs([ConfigResource("topic", topic)], request_timeout=TIMEOUT)
        for future in futures.values():
            value = future.result().get("retention.ms")
            return int(value.value) if value is not None and value.value is not None else None
        return None

    def topics(self) -> list[TopicInfo]:
        infos = []
        for name in self.topic_names():
            parts = self.all_partitions([name])
            first, last = self.earliest(parts), self.latest(parts)
            infos.append(TopicInfo(name, len(parts), sum(first.values()), sum(last.values()), self.retention_ms(name)))
        return infos

    def groups(self) -> list[str]:
        return sorted(g.group_id for g in self.admin.list_consumer_groups(request_timeout=TIMEOUT).result().valid)

    def group_state(self, group: str) -> GroupState:
        description = self.admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result()
        members = [f"{m.client_id}@{m.host}" for m in description.members]
        return GroupState(group, description.state.name, members)

    def committed(self, group: str, partitions: list[Partition] | None = None) -> dict[Partition, int | None]:
        """The group's committed offsets (None: nothing committed for that partition)."""
        request = [TopicPartition(t, p) for t, p in partitions] if partitions else None
        future = self.admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group, request)], request_timeout=TIMEOUT
        )[group]
        return {
            (tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in future.result().topic_partitions
        }

    def set_committed(self, group: str, offsets: dict[Partition, int]) -> None:
        """Commit ``offsets`` for ``group``; the broker refuses it while the group has members."""
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        result = self.admin.alter_consumer_group_offsets([request], request_timeout=TIMEOUT)[group].result()
        failed = [tp for tp in result.topic_partitions if tp.error is not None]
        if failed:
            raise RuntimeError(f"the broker refused offsets for {group}: {failed[0].error}")

    def delete_before(self, offsets: dict[Partition, int]) -> None:
        """Delete every record before ``offsets`` (used to empty a drained DLQ)."""
        request = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        for future in self.admin.delete_records(request, request_timeout=TIMEOUT).values():
            future.result()
