"""Building what the token service would emit, and watching the notifier's ledger (notifier tests only)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_events.common import EmailDelivery, HookDelivery
from vetgate_events.token import CredentialsIssued, KeyRevocationReminder, KeyRevoked
from vetgate_messaging.host import ServiceHost
from vetgate_notifier.adapters.tables import attempts, deliveries
from vetgate_notifier.config import NotifierSettings
from vetgate_platform.sealing import SealingKeyring, client_secret_binding, webhook_secret_binding


def new_whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def credentials(
    keyring: SealingKeyring,
    delivery: HookDelivery | EmailDelivery | None = None,
    *,
    hook_url: str | None = None,
    whsecs: list[str] | None = None,
    provet_id: int = 1001,
    public: bool = False,
) -> tuple[CredentialsIssued, str | None]:
    """CredentialsIssued as the token service emits it (secrets sealed to the notifier) and the secret."""
    client_id = f"int-{uuid.uuid4().hex[:12]}"
    template_id = uuid.uuid4()
    secret = None if public else secrets.token_urlsafe(32)
    sealed = None if secret is None else keyring.public_key.seal(secret, bound_to=client_secret_binding(client_id))
    if delivery is None:
        assert hook_url is not None
        signing = [
            keyring.public_key.seal(w, bound_to=webhook_secret_binding(str(template_id), f"s{i}"))
            for i, w in enumerate(whsecs or [])
        ]
        delivery = HookDelivery(url=hook_url, signing_secrets=signing)
    base = f"http://token.test/{provet_id}/oauth2"
    event = CredentialsIssued(
        delivery_id=uuid.uuid4(),
        activation_id=uuid.uuid4(),
        template_id=template_id,
        provet_id=provet_id,
        client_id=client_id,
        integration_name="Reminders",
        grant_type="client_credentials",
        client_type="public" if public else "confidential",
        redirect_uris=[],
        sealed_secret=sealed,
        id_token_algorithm=None,
        token_url=f"{base}/token/",
        authorize_url=f"{base}/authorize/",
        openid_autodiscovery_url=f"{base}/.well-known/openid-configuration",
        delivery=delivery,
        issued_at=datetime.now(UTC),
    )
    return event, secret


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


# Whole minutes, so a reminder mail shows exactly this instant.
REMINDER_DEADLINE = (datetime.now(UTC) + timedelta(days=30)).replace(second=0, microsecond=0)
LAST_USED = datetime(2026, 11, 20, 14, 3, 27, tzinfo=UTC)


def reminder(
    batch: uuid.UUID,
    provet_id: int,
    owner: str,
    name: str,
    *,
    last_used_at: datetime | None = LAST_USED,
    deadline: datetime = REMINDER_DEADLINE,
) -> KeyRevocationReminder:
    return KeyRevocationReminder(
        api_key_id=uuid.uuid4(),
        provet_id=provet_id,
        environment="production",
        name=name,
        integration="LabLink",
        owner_email=owner,
        reminder_batch_id=batch,
        revocation_deadline=deadline,
        last_used_at=last_used_at,
        reminded_at=datetime.now(UTC),
    )


async def wait_for_status(engine: AsyncEngine, delivery_id: uuid.UUID, *statuses: str, timeout: float = 30) -> Any:
    """The delivery's row once its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            row = (await conn.execute(select(deliveries).where(deliveries.c.delivery_id == delivery_id))).first()
        last = row.status if row else None
        if row is not None and row.status in statuses:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} is {last}, not {statuses}, after {timeout:.0f}s")


async def attempt_rows(engine: AsyncEngine, delivery_id: uuid.UUID) -> list[Any]:
    async with engine.connect() as conn:
        query = select(attempts).where(attempts.c.delivery_id == delivery_id).order_by(attempts.c.id)
        return list(await conn.execute(query))


async def wait_until_consumed(engine: AsyncEngine, ce_id: str, timeout: float = 30) -> None:
    """Until the notifier's inbox holds ``ce_id`` (its handler's transaction committed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            found = await conn.scalar(text("SELECT count(*) FROM inbox WHERE event_id = :id"), {"id": ce_id})
        if found:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"event {ce_id} was not consumed within {timeout:.0f}s")


def parse_mail(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def mail_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


@dataclass
class ScriptedSmtp:
    """An SMTP server answering DATA with scripted replies (then 250), keeping what it accepted."""

    replies: list[str] = field(default_factory=list)
    accepted: list[bytes] = field(default_factory=list)
    tried: int = 0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.tried += 1
            reply = self.replies.pop(0) if self.replies else "250 Message accepted"
            if reply.startswith("250"):
                self.accepted.append(envelope.original_content or b"")
        return reply


@dataclass
class Notifier:
    host: ServiceHost
    app: FastAPI
    http: httpx.AsyncClient
    settings: NotifierSettings
    keyring: SealingKeyring

    @property
    def engine(self) -> Any:
        return self.host.engine


NotifierFactory = Callable[..., contextlib.AbstractAsyncContextManager[Notifier]]
SettingsFactory = Callable[..., NotifierSettings]


def serve_notifier(values: dict[str, Any]) -> None:
    """A notifier process of its own (run with the spawn start method), until it is killed."""
    from vetgate_notifier.bootstrap import bootstrap

    host = bootstrap(NotifierSettings(**values))
    host.migrate()

    async def serve() -> None:
        app = host.create_app()
        async with app.router.lifespan_context(app):
            await asyncio.Event().wait()

    asyncio.run(serve())
