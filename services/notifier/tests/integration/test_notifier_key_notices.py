"""KeyRevoked notices: one mail per revocation batch and owner, listing every tenant whose key went."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic import command
from notifier_support import (
    NotifierFactory,
    ScriptedSmtp,
    SettingsFactory,
    mail_text,
    parse_mail,
    revoked,
    wait_until_consumed,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_messaging import migrations as messaging_versions
from vetgate_messaging import testing
from vetgate_notifier.bootstrap import MIGRATIONS
from vetgate_notifier.config import NotifierSettings
from vetgate_platform.db import create_engine
from vetgate_platform.migrations import alembic_config, upgrade

pytestmark = pytest.mark.integration


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


async def test_a_notice_pending_across_the_reminders_upgrade_goes_out_as_before(
    notifier_settings: SettingsFactory, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    settings = notifier_settings()
    await asyncio.to_thread(upgrade, settings.database_url, settings.schema_name, VERSIONS, "n0001")
    batch = uuid.uuid4()
    async with _engine(settings) as engine, engine.begin() as conn:  # written by the notifier before n0002
        await conn.execute(_N0001_NOTICE, {"batch": batch})
        await conn.execute(_N0001_ITEM, {"batch": batch, "key": uuid.uuid4()})
    async with notifier_factory() as notifier:  # upgrades to the head first
        await _until_notices_settle(notifier.engine, expected=1)
    mail = parse_mail(smtp.accepted[0])
    assert len(smtp.accepted) == 1 and mail["Message-ID"].startswith(f"<keys-revoked-{batch}-")
    assert "tenant 1001 (production): LabLink" in mail_text(mail)


async def test_the_reminders_upgrade_rolls_back_keeping_revocation_notices(notifier_settings: SettingsFactory) -> None:
    settings = notifier_settings()
    await asyncio.to_thread(upgrade, settings.database_url, settings.schema_name, VERSIONS)
    revoked_batch, reminder_batch = uuid.uuid4(), uuid.uuid4()
    async with _engine(settings) as engine:
        async with engine.begin() as conn:
            for kind, batch in (("revoked", revoked_batch), ("reminder", reminder_batch)):
                await conn.execute(_NOTICE, {"kind": kind, "batch": batch})
            await conn.execute(_REVOKED_ITEM, {"batch": revoked_batch, "key": uuid.uuid4()})
            await conn.execute(_REMINDER_ITEM, {"batch": reminder_batch, "key": uuid.uuid4()})
        cfg = alembic_config(settings.database_url, settings.schema_name, VERSIONS)
        await asyncio.to_thread(command.downgrade, cfg, "n0001")
        async with engine.connect() as conn:
            notices = await conn.scalars(text("SELECT batch_id FROM key_notices"))
            items = await conn.scalars(text("SELECT batch_id FROM key_notice_items"))
            kept = (list(notices), list(items))
        assert kept == ([revoked_batch], [revoked_batch]), "n0001 cannot hold reminders"
    await asyncio.to_thread(upgrade, settings.database_url, settings.schema_name, VERSIONS)


VERSIONS = [messaging_versions.VERSIONS, MIGRATIONS]
_N0001_NOTICE = text(
    "INSERT INTO key_notices (batch_id, owner_email, status, due_at)"
    " VALUES (:batch, 'ada@lab.example', 'pending', now())"
)
_N0001_ITEM = text(
    "INSERT INTO key_notice_items (batch_id, owner_email, api_key_id, provet_id, environment, integration, reason,"
    " revoked_at) VALUES (:batch, 'ada@lab.example', :key, 1001, 'production', 'LabLink', 'retired', now())"
)
_NOTICE = text(
    "INSERT INTO key_notices (kind, batch_id, owner_email, status, due_at)"
    " VALUES (:kind, :batch, 'ada@lab.example', 'sent', now())"
)
_REVOKED_ITEM = text(
    "INSERT INTO key_notice_items (kind, batch_id, owner_email, api_key_id, provet_id, environment, reason,"
    " revoked_at) VALUES ('revoked', :batch, 'ada@lab.example', :key, 1001, 'production', 'retired', now())"
)
_REMINDER_ITEM = text(
    "INSERT INTO key_notice_items (kind, batch_id, owner_email, api_key_id, provet_id, environment, name,"
    " revocation_deadline) VALUES ('reminder', :batch, 'ada@lab.example', :key, 1001, 'production', 'front desk',"
    " now() + interval '30 days')"
)


@contextlib.asynccontextmanager
async def _engine(settings: NotifierSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, settings.schema_name)
    try:
        yield engine
    finally:
        await engine.dispose()
