"""KeyRevoked notices: one mail per revocation batch and owner, listing every tenant whose key went."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from notifier_support import NotifierFactory, ScriptedSmtp, mail_text, parse_mail, wait_until_consumed
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_events.token import KeyRevoked
from vetgate_messaging import testing

pytestmark = pytest.mark.integration


def revoked(batch: uuid.UUID, provet_id: int, owner: str | None, integration: str = "LabLink") -> KeyRevoked:
    return KeyRevoked(
        api_key_id=uuid.uuid4(),
        provet_id=provet_id,
        environment="production",
        integration=integration,
        owner_email=owner,
        revocation_batch_id=batch,
        reason="legacy API keys retired",
        revoked_at=datetime.now(UTC),
    )


async def test_each_owner_gets_one_mail_per_batch_naming_every_tenant(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    batch = uuid.uuid4()
    events = [revoked(batch, p, "Ada@Lab.example") for p in (1001, 1002, 1003)]
    events += [revoked(batch, 1001, "bob@vet.example", "Reminders"), revoked(batch, 1002, None)]
    async with notifier_factory() as notifier:
        for event in events:
            await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        await _until_notices_settle(notifier.engine, expected=2)
        replayed = await testing.publish(infra.kafka_bootstrap, events[0], "/vetgate/token")  # a replayed key
        await wait_until_consumed(notifier.engine, replayed)
        await notifier.host.components["key_notices"].send_due()
    mails = {parse_mail(raw)["To"]: parse_mail(raw) for raw in smtp.accepted}
    assert len(smtp.accepted) == 2 and set(mails) == {"ada@lab.example", "bob@vet.example"}
    ada = mail_text(mails["ada@lab.example"])
    assert all(f"tenant {p} (production): LabLink" in ada for p in (1001, 1002, 1003))
    assert "OAuth 2.0" in ada and "legacy API keys retired" in ada
    assert "tenant 1001 (production): Reminders" in mail_text(mails["bob@vet.example"])
    assert mails["ada@lab.example"]["Message-ID"].startswith(f"<keys-revoked-{batch}-")


async def _until_notices_settle(engine: AsyncEngine, expected: int) -> None:
    for _ in range(600):
        async with engine.connect() as conn:
            sent = await conn.scalar(text("SELECT count(*) FROM key_notices WHERE status = 'sent'"))
        if sent == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the notices were not sent")
