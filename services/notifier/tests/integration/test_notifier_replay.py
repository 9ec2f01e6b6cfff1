"""Operators' replays through the notifier (issue 7): after an outage exactly the missing credentials are
delivered; an explicit reprocess redoes a failed delivery and never resends a delivered one."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from notifier_support import NotifierFactory, credentials, wait_for_status
from vetgate_devstack.infra import Infrastructure
from vetgate_events.token import CredentialsIssued
from vetgate_events.topics import TOKEN_CREDENTIALS
from vetgate_messaging import testing
from vetgate_notifier.domain.payload import webhook_id
from vetgate_notifier.testing import HookReceiver, always
from vetgate_ops.cluster import Cluster
from vetgate_ops.replay_plan import Start, apply_plan, make_plan
from vetgate_ops.republish import new_job, run_job

pytestmark = pytest.mark.integration


async def publish(infra: Infrastructure, event: CredentialsIssued) -> str:
    return await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")


async def test_a_replay_after_an_outage_delivers_exactly_the_missing_credentials(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    before_incident = datetime.now(UTC) - timedelta(seconds=1)
    async with HookReceiver(always(200)).running() as receiver:
        async with notifier_factory() as notifier:
            early = [credentials(notifier.keyring, hook_url=receiver.url)[0] for _ in range(2)]
            for event in early:
                await publish(infra, event)
            for event in early:
                await wait_for_status(notifier.engine, event.delivery_id, "delivered")
            group = notifier.settings.group
        # The notifier is down while three more tenants add integrations.
        missed = [credentials(notifier.keyring, hook_url=receiver.url)[0] for _ in range(3)]
        for event in missed:
            await publish(infra, event)

        cluster = Cluster(infra.kafka_bootstrap)
        plan = await asyncio.to_thread(
            make_plan, cluster, group, [TOKEN_CREDENTIALS], None, Start(kind="time", at=before_incident)
        )
        assert plan.messages >= 5, "the plan reads the early deliveries again, and the missed ones"
        await asyncio.to_thread(apply_plan, cluster, plan)

        async with notifier_factory() as notifier:
            for event in missed:
                await wait_for_status(notifier.engine, event.delivery_id, "delivered")
            await _caught_up(cluster, group)

    sent = Counter(r.headers["webhook-id"] for r in receiver.accepted())
    assert sent == Counter(webhook_id(e.delivery_id) for e in early + missed), "each exactly once"


def _carrying(event: CredentialsIssued) -> testing.RecordTest:
    delivery_id = str(event.delivery_id).encode()
    return lambda _, value: delivery_id in value


async def _caught_up(cluster: Cluster, group: str) -> None:
    """Until the group has read everything (so a wrong re-send of an early delivery would have happened)."""
    parts = await asyncio.to_thread(cluster.all_partitions, [TOKEN_CREDENTIALS])
    ends = await asyncio.to_thread(cluster.latest, parts)
    for _ in range(300):
        committed = await asyncio.to_thread(cluster.committed, group, parts)
        if all((committed.get(tp) or 0) >= end for tp, end in ends.items()):
            await asyncio.sleep(0.5)  # the dispatcher runs right after the commit
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{group} did not catch up")


async def test_a_reprocess_redoes_a_failed_delivery_and_leaves_a_delivered_one_alone(
    infra: Infrastructure, notifier_factory: NotifierFactory, tmp_path: object
) -> None:
    statuses = iter([410, 200, 200, 200])  # the first receiver answer is permanent: that delivery fails
    async with HookReceiver(lambda _: (next(statuses), {})).running() as receiver:
        async with notifier_factory() as notifier:
            doomed, _ = credentials(notifier.keyring, hook_url=receiver.url)
            await publish(infra, doomed)
            await wait_for_status(notifier.engine, doomed.delivery_id, "failed")
            fine, _ = credentials(notifier.keyring, hook_url=receiver.url)
            await publish(infra, fine)
            await wait_for_status(notifier.engine, fine.delivery_id, "delivered")

            # The operator re-runs the handler for both records (explicit, audited in real use).
            cluster = Cluster(infra.kafka_bootstrap)
            for event in (doomed, fine):
                record = await testing.wait_for_record(infra.kafka_bootstrap, TOKEN_CREDENTIALS, _carrying(event))
                job = await asyncio.to_thread(
                    new_job,
                    cluster,
                    TOKEN_CREDENTIALS,
                    target_topic=TOKEN_CREDENTIALS,
                    partitions=[record.partition],
                    start_offsets={record.partition: record.offset},
                    end_offsets={record.partition: record.offset + 1},
                    reprocess=True,
                )
                await asyncio.to_thread(run_job, cluster, job, tmp_path / f"{job.job_id}.json")  # type: ignore[operator]
            await wait_for_status(notifier.engine, doomed.delivery_id, "delivered")
            await asyncio.sleep(0.5)  # time for a wrong second send of the delivered one to show up

    sent = Counter(r.headers["webhook-id"] for r in receiver.accepted())
    assert sent == Counter({webhook_id(doomed.delivery_id): 1, webhook_id(fine.delivery_id): 1})
