"""Replaying into a consumer group: move its committed offsets back (or forward), after a dry run.

A plan records, per partition, where the group is now, where it will restart and how many records it will
then read; it can be saved and applied later, and applying it refuses if the group moved in between or has
live members (the broker would refuse too, but with a less helpful error).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from vetgate_ops.cluster import Cluster, Partition
from vetgate_ops.times import from_millis, to_millis


class Start(BaseModel):
    """Where the group restarts: at a time, an absolute offset, shifted from where it is, or an end."""

    kind: Literal["time", "offset", "shift", "earliest", "latest"]
    at: datetime | None = None
    offset: int | None = None
    shift: int | None = None

    def describe(self) -> str:
        match self.kind:
            case "time":
                assert self.at is not None
                return f"first record at or after {self.at.isoformat()}"
            case "offset":
                return f"offset {self.offset}"
            case "shift":
                return f"shifted by {self.shift:+d}"
            case _:
                return self.kind


class PartitionMove(BaseModel):
    topic: str
    partition: int
    current: int | None = Field(description="Committed offset now (None: nothing committed yet)")
    target: int
    end: int = Field(description="End offset when the plan was made")

    @property
    def messages(self) -> int:
        """Records the group will read from ``target`` to the end as it was at planning time."""
        return max(0, self.end - self.target)


class ReplayPlan(BaseModel):
    group: str
    start: Start
    created_at: datetime
    moves: list[PartitionMove]

    @property
    def changes(self) -> list[PartitionMove]:
        return [m for m in self.moves if m.current != m.target]

    @property
    def messages(self) -> int:
        """Records the group will read from its restart points (unmoved partitions' lag included)."""
        return sum(m.messages for m in self.moves)


class GroupBusy(RuntimeError):
    """The group has live members: moving its offsets now would race them."""


class PlanOutdated(RuntimeError):
    """The group's offsets changed since the plan was made."""


def make_plan(
    cluster: Cluster, group: str, topics: list[str], partitions: list[int] | None, start: Start
) -> ReplayPlan:
    parts = cluster.all_partitions(topics, partitions)
    first, ends = cluster.earliest(parts), cluster.latest(parts)
    committed = cluster.committed(group, parts)
    targets = _targets(cluster, parts, start, committed, first, ends)
    moves = [
        PartitionMove(topic=t, partition=p, current=committed.get((t, p)), target=targets[(t, p)], end=ends[(t, p)])
        for t, p in parts
    ]
    return ReplayPlan(group=group, start=start, created_at=datetime.now(UTC), moves=moves)


def _targets(
    cluster: Cluster,
    parts: list[Partition],
    start: Start,
    committed: dict[Partition, int | None],
    first: dict[Partition, int],
    ends: dict[Partition, int],
) -> dict[Partition, int]:
    def clamp(tp: Partition, offset: int) -> int:
        return min(max(offset, first[tp]), ends[tp])

    match start.kind:
        case "time":
            assert start.at is not None
            return cluster.offsets_at(parts, to_millis(start.at))
        case "offset":
            assert start.offset is not None
            return {tp: clamp(tp, start.offset) for tp in parts}
        case "shift":
            assert start.shift is not None
            return {tp: clamp(tp, (committed.get(tp) or first[tp]) + start.shift) for tp in parts}
        case "earliest":
            return dict(first)
        case _:
            return dict(ends)


def apply_plan(cluster: Cluster, plan: ReplayPlan, *, wait_for_empty: float = 0.0) -> int:
    """Commit the plan's targets for its group; returns how many partitions moved."""
    deadline = time.monotonic() + wait_for_empty
    while (state := cluster.group_state(plan.group)).members:
        if time.monotonic() >= deadline:
            raise GroupBusy(
                f"{plan.group} has {len(state.members)} live member(s) ({', '.join(state.members)}): stop them, "
                "or pass --wait-for-empty SECONDS to wait for them to leave"
            )
        time.sleep(1)
    changes = plan.changes
    if not changes:
        return 0
    now = cluster.committed(plan.group, [(m.topic, m.partition) for m in plan.moves])
    moved = [m for m in plan.moves if now.get((m.topic, m.partition)) != m.current]
    if moved:
        m = moved[0]
        raise PlanOutdated(
            f"{plan.group} moved on {m.topic}[{m.partition}] since the plan was made "
            f"({m.current} → {now.get((m.topic, m.partition))}): make a new plan"
        )
    cluster.set_committed(plan.group, {(m.topic, m.partition): m.target for m in changes})
    return len(changes)


def describe_time(millis: int) -> str:
    return from_millis(millis).isoformat()
