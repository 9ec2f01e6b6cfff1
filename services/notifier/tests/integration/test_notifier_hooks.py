"""Hook-up delivery end to end: CredentialsIssued on the real broker → signed POST to a real receiver."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from datetime import UTC, datetime

import pytest
from notifier_support import (
    NotifierFactory,
    SettingsFactory,
    attempt_rows,
    credentials,
    new_whsec,
    serve_notifier,
    wait_for_status,
    wait_until_consumed,
)
from standardwebhooks.webhooks import Webhook
from vetgate_devstack.infra import Infrastructure
from vetgate_events.notifier import CredentialsDelivered, CredentialsDeliveryFailed
from vetgate_events.topics import NOTIFIER_DELIVERIES
from vetgate_messaging import testing
from vetgate_notifier.domain.payload import FIELDS, webhook_id
from vetgate_notifier.service_layer.outcomes import outcome_event_id
from vetgate_notifier.testing import HookReceiver, always, failing
from vetgate_platform.sealing import SealingKeyring

pytestmark = pytest.mark.integration


async def publish(infra: Infrastructure, event: object) -> str:
    return await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")  # type: ignore[arg-type]


async def outcome_on_topic(infra: Infrastructure, event_id: object) -> dict[str, object]:
    record = await testing.wait_for_record(
        infra.kafka_bootstrap, NOTIFIER_DELIVERIES, lambda h, _: h.get("ce_id") == str(event_id).encode()
    )
    return dict(json.loads(record.value or b"{}"))


async def test_failing_twice_then_200_is_one_delivery_in_three_attempts_with_one_webhook_id(
    infra: Infrastructure, notifier_factory: NotifierFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    old, new = new_whsec(), new_whsec()
    async with HookReceiver(failing(2, 500)).running() as receiver, notifier_factory() as notifier:
        event, secret = credentials(notifier.keyring, hook_url=receiver.url, whsecs=[new, old])
        await publish(infra, event)
        row = await wait_for_status(notifier.engine, event.delivery_id, "delivered")
        delivered = await outcome_on_topic(infra, outcome_event_id(event.delivery_id, "delivered", 0))

    assert [r.status for r in receiver.received] == [500, 500, 200]
    assert len(receiver.accepted()) == 1
    assert {r.headers["webhook-id"] for r in receiver.received} == {webhook_id(event.delivery_id)}
    accepted = receiver.accepted()[0]
    payload = json.loads(accepted.body)
    assert tuple(payload) == FIELDS
    assert payload["client_secret"] == secret and payload["client_id"] == event.client_id
    assert payload["token_url"] == event.token_url and payload["provet_id"] == 1001
    assert accepted.headers["content-type"] == "application/json"
    for whsec in (old, new):  # both signatures during the rotation overlap
        assert Webhook(whsec).verify(accepted.body, accepted.headers) == payload
    tried = await attempt_rows(notifier.engine, event.delivery_id)
    assert [(a.attempt, a.status_code, a.outcome) for a in tried] == [
        (1, 500, "retry"),
        (2, 500, "retry"),
        (3, 200, "delivered"),
    ]
    assert row.attempts == 3 and row.last_error is None
    assert delivered["attempts"] == 3 and delivered["channel"] == "hook_url"
    assert delivered["activation_id"] == str(event.activation_id)
    assert CredentialsDelivered.model_validate(delivered).delivery_id == event.delivery_id
    assert secret is not None and secret not in capfd.readouterr().out + capfd.readouterr().err


async def test_down_beyond_the_schedule_fails_and_recover_delivers_it(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    async with HookReceiver(always(503)).running() as receiver, notifier_factory() as notifier:
        event, _ = credentials(notifier.keyring, hook_url=receiver.url, whsecs=[new_whsec()])
        failed_at = datetime.now(UTC)
        await publish(infra, event)
        row = await wait_for_status(notifier.engine, event.delivery_id, "failed")
        assert row.attempts == 3 and row.last_error == "HTTP 503"
        failed = await outcome_on_topic(infra, outcome_event_id(event.delivery_id, "failed", 0))
        assert CredentialsDeliveryFailed.model_validate(failed).last_error == "HTTP 503"

        receiver.responder = always(200)
        from vetgate_notifier.adapters.delivery_log import scope
        from vetgate_notifier.adapters.tables import deliveries

        ledger = notifier.host.components["ledger"]
        async with notifier.engine.begin() as conn:
            d = deliveries.c
            ids = await ledger.redeliver(conn, scope(None) & (d.status == "failed") & (d.failed_at >= failed_at))
        assert event.delivery_id in ids
        row = await wait_for_status(notifier.engine, event.delivery_id, "delivered")
        await outcome_on_topic(infra, outcome_event_id(event.delivery_id, "delivered", 1))

    assert row.generation == 1
    assert [r.status for r in receiver.received] == [503, 503, 503, 200]
    assert {r.headers["webhook-id"] for r in receiver.received} == {webhook_id(event.delivery_id)}


async def test_client_errors_stop_early(infra: Infrastructure, notifier_factory: NotifierFactory) -> None:
    async with HookReceiver(always(410)).running() as receiver, notifier_factory() as notifier:
        event, _ = credentials(notifier.keyring, hook_url=receiver.url)
        await publish(infra, event)
        row = await wait_for_status(notifier.engine, event.delivery_id, "failed")
    assert len(receiver.received) == 1 and row.attempts == 1 and row.last_error == "HTTP 410"


async def test_a_replayed_credentials_issued_sends_nothing_new(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    async with HookReceiver(always(200)).running() as receiver, notifier_factory() as notifier:
        event, _ = credentials(notifier.keyring, hook_url=receiver.url)
        await publish(infra, event)
        await wait_for_status(notifier.engine, event.delivery_id, "delivered")
        # A replay carries a new envelope id (past the inbox): the ledger knows the delivery.
        replay_id = await publish(infra, event)
        await wait_until_consumed(notifier.engine, replay_id)
        row = await wait_for_status(notifier.engine, event.delivery_id, "delivered")
    assert len(receiver.received) == 1
    assert row.attempts == 1 and row.generation == 0
    assert len(await attempt_rows(notifier.engine, event.delivery_id)) == 1


async def test_a_notifier_stopped_mid_retry_resumes_after_restart(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    async with HookReceiver(failing(1, 502)).running() as receiver:
        async with notifier_factory(retry_schedule=[0, 1.5]) as notifier:
            event, _ = credentials(notifier.keyring, hook_url=receiver.url)
            await publish(infra, event)
            await receiver.arrived.wait()
            while not await attempt_rows(notifier.engine, event.delivery_id):
                await receiver_pause()
        # Stopped between attempts: the retry is only in Postgres now.
        assert len(receiver.received) == 1
        async with notifier_factory(retry_schedule=[0, 1.5]) as restarted:
            row = await wait_for_status(restarted.engine, event.delivery_id, "delivered")
    assert [r.status for r in receiver.received] == [502, 200]
    assert row.attempts == 2


async def receiver_pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_a_notifier_killed_mid_attempt_is_taken_over_when_its_lease_ends(
    infra: Infrastructure, notifier_settings: SettingsFactory, notifier_factory: NotifierFactory
) -> None:
    settings = notifier_settings(claim_lease=1.0, hook_timeout=30.0)
    async with HookReceiver(always(200), stall_first=1).running() as receiver:
        process = multiprocessing.get_context("spawn").Process(target=serve_notifier, args=(settings.model_dump(),))
        process.start()
        try:
            event, _ = credentials(SealingKeyring.from_base64(settings.sealing_keys), hook_url=receiver.url)
            await publish(infra, event)
            await asyncio.wait_for(receiver.arrived.wait(), 60)
        finally:
            process.kill()  # SIGKILL while the attempt waits for an answer: nothing is recorded
            await asyncio.to_thread(process.join)
        async with notifier_factory(claim_lease=1.0) as restarted:
            row = await wait_for_status(restarted.engine, event.delivery_id, "delivered")
    assert len(receiver.received) == 2, "the lost attempt is made again, once"
    assert {r.headers["webhook-id"] for r in receiver.received} == {webhook_id(event.delivery_id)}
    assert row.attempts == 2


async def test_a_receiver_that_does_not_answer_in_time_is_tried_again(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    async with HookReceiver(always(200), stall_first=1).running() as receiver:
        async with notifier_factory(hook_timeout=0.5) as notifier:
            event, _ = credentials(notifier.keyring, hook_url=receiver.url)
            await publish(infra, event)
            await wait_for_status(notifier.engine, event.delivery_id, "delivered")
            tried = await attempt_rows(notifier.engine, event.delivery_id)
    assert [(a.outcome, a.error) for a in tried] == [("retry", "timed out after 0.5s"), ("delivered", None)]
    assert len(receiver.received) == 2
