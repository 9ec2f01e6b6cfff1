"""KeyRevocationReminder: one reminder mail per reminder batch and owner, listing the owner's keys in it."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notifier_support import (
    REMINDER_DEADLINE,
    NotifierFactory,
    ScriptedSmtp,
    mail_text,
    parse_mail,
    reminder,
    revoked,
    wait_until_consumed,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_events import IntegrationEvent
from vetgate_events.token import KeyRevocationReminder
from vetgate_events.topics import TOKEN_API_KEYS
from vetgate_messaging import testing
from vetgate_ops.cluster import Cluster
from vetgate_ops.replay_plan import Start, apply_plan, make_plan

pytestmark = pytest.mark.integration

SHOWN_DEADLINE = REMINDER_DEADLINE.strftime("%Y-%m-%d %H:%M UTC")
BOTH_SENT = {("reminder", "ada@lab.example"): "sent", ("reminder", "bob@vet.example"): "sent"}
# Long enough that a batch published at once is never split into a mail and a follow-up.
QUIET = 1.0


def a_batch(batch: uuid.UUID) -> list[KeyRevocationReminder]:
    """Three keys of Ada's at two tenants (one never used) and one of Bob's."""
    return [
        reminder(batch, 1001, "Ada@Lab.example", "front desk"),
        reminder(batch, 1001, "ada@lab.example", "lab sync", last_used_at=None),
        reminder(batch, 1002, "ada@lab.example", "front desk"),
        reminder(batch, 1003, "bob@vet.example", "billing"),
    ]


async def publish(infra: Infrastructure, event: IntegrationEvent) -> str:
    return await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")


async def test_each_owner_gets_one_reminder_listing_their_keys_and_the_deadline(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    batch = uuid.uuid4()
    async with notifier_factory(key_notice_quiet=QUIET) as notifier:
        await asyncio.gather(*(publish(infra, event) for event in a_batch(batch)))
        await until_statuses(notifier.engine, BOTH_SENT)
    mails = {parse_mail(raw)["To"]: parse_mail(raw) for raw in smtp.accepted}
    assert len(smtp.accepted) == 2 and set(mails) == {"ada@lab.example", "bob@vet.example"}
    ada, bob = mails["ada@lab.example"], mails["bob@vet.example"]
    body = mail_text(ada)
    assert 'tenant 1001 (production): key "front desk", LabLink, last used 2026-11-20 14:03 UTC' in body
    assert 'tenant 1001 (production): key "lab sync", LabLink, no recorded use' in body
    assert 'tenant 1002 (production): key "front desk", LabLink, last used 2026-11-20 14:03 UTC' in body
    assert "billing" not in body, "an owner sees only their own keys"
    prose = " ".join(body.split())  # the lines wrap wherever the template breaks them
    assert f"(production environment) are still active. Vetgate will revoke them at {SHOWN_DEADLINE}" in prose
    assert "client_credentials" in body and "catalogue" in body
    assert ada["Subject"] == f"Legacy API keys at 2 tenant(s) will be revoked at {SHOWN_DEADLINE}: move to OAuth 2.0"
    assert ada["Message-ID"].startswith(f"<keys-reminder-{batch}-") and ada["Message-ID"].endswith(".0@vetgate.local>")
    assert 'tenant 1003 (production): key "billing"' in mail_text(bob)


async def test_replayed_and_reemitted_reminders_send_nothing_again(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    batch = uuid.uuid4()
    events = a_batch(batch)
    async with notifier_factory(key_notice_quiet=QUIET) as notifier:
        await asyncio.gather(*(publish(infra, event) for event in events))
        await until_statuses(notifier.engine, BOTH_SENT)
        group = notifier.settings.group
    # An operator replays the topic for the notifier's group (the same records, the inbox knows them) ...
    cluster = Cluster(infra.kafka_bootstrap)
    plan = await asyncio.to_thread(make_plan, cluster, group, [TOKEN_API_KEYS], None, Start(kind="time", at=before))
    assert plan.messages >= len(events)
    await asyncio.to_thread(apply_plan, cluster, plan)
    async with notifier_factory() as notifier:
        # ... and the token service emits the same reminders again (new event ids, the same keys). Each
        # comes after the replayed records of its partition, so once they are consumed, all were.
        for ce_id in await asyncio.gather(*(publish(infra, event) for event in events)):
            await wait_until_consumed(notifier.engine, ce_id)
        # Longer than the quiet period and a poll: time for a wrong second mail to go out.
        await asyncio.sleep(notifier.settings.key_notice_quiet + 3 * notifier.settings.poll_interval)
        async with notifier.engine.connect() as conn:
            mailed = await conn.scalar(text("SELECT sum(mails_sent) FROM key_notices"))
    assert len(smtp.accepted) == 2 and smtp.tried == 2 and mailed == 2


async def test_a_reminder_collected_before_a_restart_is_sent_once_after_it(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    batch = uuid.uuid4()
    events = a_batch(batch)
    async with notifier_factory(key_notice_quiet=60) as notifier:  # still quiet when it stops
        for ce_id in await asyncio.gather(*(publish(infra, event) for event in events)):
            await wait_until_consumed(notifier.engine, ce_id)
    assert smtp.tried == 0
    async with notifier_factory() as notifier:
        async with notifier.engine.begin() as conn:
            await conn.execute(text("UPDATE key_notices SET due_at = now()"))  # the quiet period is over
        await until_statuses(notifier.engine, BOTH_SENT)
    assert sorted(parse_mail(raw)["To"] for raw in smtp.accepted) == ["ada@lab.example", "bob@vet.example"]


async def test_an_smtp_failure_is_retried_and_the_reminder_delivered_later(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    smtp.replies = ["451 4.3.0 Try again later", "421 4.7.0 Too busy"]
    batch = uuid.uuid4()
    async with notifier_factory() as notifier:
        await publish(infra, reminder(batch, 1001, "ada@lab.example", "front desk"))
        await until_statuses(notifier.engine, {("reminder", "ada@lab.example"): "sent"})
    assert smtp.tried == 3 and len(smtp.accepted) == 1
    message_id = parse_mail(smtp.accepted[0])["Message-ID"]
    assert message_id.startswith(f"<keys-reminder-{batch}-")
    assert message_id.endswith(".0@vetgate.local>"), "the retries send the same mail, not a follow-up"


async def test_reminders_and_revocation_notices_of_one_owner_go_out_side_by_side(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    # The same batch id on purpose: a notice is keyed by its kind too, so the two never merge.
    batch = uuid.uuid4()
    async with notifier_factory() as notifier:
        await publish(infra, reminder(batch, 1001, "ada@lab.example", "front desk"))
        await publish(infra, revoked(batch, 1002, "ada@lab.example"))
        await until_statuses(
            notifier.engine, {("reminder", "ada@lab.example"): "sent", ("revoked", "ada@lab.example"): "sent"}
        )
    mails = {parse_mail(raw)["Message-ID"].split("-")[1]: parse_mail(raw) for raw in smtp.accepted}
    assert len(smtp.accepted) == 2 and set(mails) == {"reminder", "revoked"}
    assert 'tenant 1001 (production): key "front desk"' in mail_text(mails["reminder"])
    assert "1002" not in mail_text(mails["reminder"])
    revoked_text = mail_text(mails["revoked"])
    assert "have been revoked (legacy API keys retired)" in revoked_text
    assert "tenant 1002 (production): LabLink" in revoked_text and "1001" not in revoked_text


async def test_a_reminder_is_never_sent_after_its_deadline(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    batch = uuid.uuid4()
    async with notifier_factory(key_notice_quiet=60) as notifier:
        late = reminder(batch, 1001, "ada@lab.example", "front desk", deadline=datetime.now(UTC) - timedelta(minutes=1))
        due = reminder(batch, 1002, "bob@vet.example", "billing")
        for ce_id in [await publish(infra, late), await publish(infra, due)]:
            await wait_until_consumed(notifier.engine, ce_id)
        assert await statuses(notifier.engine) == {("reminder", "bob@vet.example"): "pending"}, "read too late"
        # Bob's mail cannot go out before the deadline (think of an SMTP outage or a notifier down for days).
        async with notifier.engine.begin() as conn:
            await conn.execute(text("UPDATE key_notice_items SET revocation_deadline = now() - interval '1 second'"))
            await conn.execute(text("UPDATE key_notices SET due_at = now()"))
        await until_statuses(notifier.engine, {("reminder", "bob@vet.example"): "expired"})
    assert smtp.tried == 0


async def statuses(engine: AsyncEngine) -> dict[tuple[str, str], str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT kind, owner_email, status FROM key_notices"))
        return {(r.kind, r.owner_email): r.status for r in rows}


async def until_statuses(engine: AsyncEngine, expected: dict[tuple[str, str], str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (found := await statuses(engine)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"notices {found}, not {expected}")
        await asyncio.sleep(0.05)
