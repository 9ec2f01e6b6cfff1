"""Support's side: create and change templates, rotate their webhook secrets, take them live."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events.catalogue import IntegrationPublished, TemplatePermissionsChanged
from vetgate_messaging.outbox import add_event, add_events
from vetgate_platform.logs import get_logger
from vetgate_platform.sealing import SealingPublicKey, webhook_secret_binding

from vetgate_catalogue.adapters.tables import templates, webhook_secrets
from vetgate_catalogue.domain.templates import HookUrlDelivery, TemplateSpec, TemplateState, hook_url_refusal
from vetgate_catalogue.service_layer.activations import ActivationRow, create_activations
from vetgate_catalogue.service_layer.errors import CatalogueError, FieldErrors, not_found
from vetgate_catalogue.service_layer.events import SOURCE

log = get_logger(__name__)


@dataclass(frozen=True)
class TemplateRecord:
    id: uuid.UUID
    spec: TemplateSpec
    state: TemplateState
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> TemplateRecord:
        return cls(
            row.id,
            TemplateSpec.model_validate(row.spec),
            TemplateState(row.state),
            row.created_at,
            row.updated_at,
            row.published_at,
        )


@dataclass(frozen=True)
class NewWebhookSecret:
    """A freshly minted ``whsec_`` secret: returned to support once, stored only sealed."""

    value: str
    previous_valid_until: datetime | None = None


@dataclass(frozen=True)
class GoLive:
    template: TemplateRecord
    added: list[ActivationRow]
    already_added: list[int]


def _new_whsec() -> str:
    # Standard Webhooks secrets are "whsec_" + base64 of the key; 32 bytes like Svix's.
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Templates:
    def __init__(self, engine: AsyncEngine, notifier_key: SealingPublicKey, *, dev_mode: bool, overlap: timedelta):
        self._engine = engine
        self._notifier_key = notifier_key
        self._dev_mode = dev_mode
        self._overlap = overlap

    async def create(self, spec: TemplateSpec) -> tuple[TemplateRecord, NewWebhookSecret | None]:
        self._check_hook_url(spec)
        template_id = uuid.uuid4()
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(templates).values(id=template_id, spec=spec.model_dump(mode="json"), state=TemplateState.SANDBOX)
            )
            whsec = await self._add_secret(conn, template_id) if _is_hook(spec) else None
            record = await self._load(conn, template_id)
        log.info("template created", template_id=str(template_id), name=spec.name, grant_type=spec.grant_type)
        return record, whsec

    async def get(self, template_id: uuid.UUID) -> TemplateRecord:
        async with self._engine.connect() as conn:
            return await self._load(conn, template_id)

    async def all(self) -> list[TemplateRecord]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(templates).order_by(templates.c.created_at))
            return [TemplateRecord.from_row(r) for r in rows]

    async def update(
        self, template_id: uuid.UUID, changes: dict[str, Any]
    ) -> tuple[TemplateRecord, NewWebhookSecret | None]:
        async with self._engine.begin() as conn:
            before = await self._load(conn, template_id, lock=True)
            merged = before.spec.model_dump(mode="json") | changes
            try:
                spec = TemplateSpec.model_validate(merged)
            except ValidationError as exc:
                raise FieldErrors(
                    [
                        {**e, "loc": ["body", *e["loc"]]}
                        for e in exc.errors(include_url=False, include_context=False, include_input=False)
                    ]
                ) from None
            self._check_hook_url(spec)
            await conn.execute(
                update(templates)
                .where(templates.c.id == template_id)
                .values(spec=spec.model_dump(mode="json"), updated_at=datetime.now(UTC))
            )
            whsec = None
            if _is_hook(spec) and not _is_hook(before.spec):
                whsec = await self._add_secret(conn, template_id)
            await self._announce_permission_change(conn, template_id, before.spec, spec)
            record = await self._load(conn, template_id)
        return record, whsec

    async def rotate_webhook_secret(self, template_id: uuid.UUID, overlap: timedelta | None) -> NewWebhookSecret:
        """A new signing secret; the previous one keeps signing (second signature) for the overlap."""
        now = datetime.now(UTC)
        valid_until = now + (self._overlap if overlap is None else overlap)
        async with self._engine.begin() as conn:
            record = await self._load(conn, template_id, lock=True)
            if not _is_hook(record.spec):
                raise CatalogueError(409, "not_a_hook_template", "only hook-delivery templates have a signing secret")
            await conn.execute(
                update(webhook_secrets)
                .where(webhook_secrets.c.template_id == template_id, webhook_secrets.c.retired_at.is_(None))
                .values(retired_at=valid_until)
            )
            fresh = await self._add_secret(conn, template_id)
        log.info("webhook secret rotated", template_id=str(template_id), previous_valid_until=valid_until.isoformat())
        return NewWebhookSecret(fresh.value, valid_until)

    async def publish(self, template_id: uuid.UUID, tenants: list[int]) -> GoLive:
        """Go live: public in the catalogue and added to ``tenants`` in one transaction."""
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            record = await self._load(conn, template_id, lock=True)
            await conn.execute(
                update(templates)
                .where(templates.c.id == template_id)
                .values(state=TemplateState.LIVE, published_at=now, updated_at=now)
            )
            added, already = await create_activations(
                conn, template_id, record.spec, tenants, origin="go_live", now=now
            )
            published = IntegrationPublished(
                template_id=template_id, name=record.spec.name, tenants=tenants, published_at=now
            )
            await add_events(conn, [(published, None)], source=SOURCE)
            record = await self._load(conn, template_id)
        log.info("template published", template_id=str(template_id), tenants=len(tenants), added=len(added))
        return GoLive(record, added, already)

    async def unpublish(self, template_id: uuid.UUID) -> TemplateRecord:
        """Hidden from new installs outside its sandbox tenants; existing installations keep working."""
        async with self._engine.begin() as conn:
            await self._load(conn, template_id, lock=True)
            await conn.execute(
                update(templates)
                .where(templates.c.id == template_id)
                .values(state=TemplateState.UNLISTED, updated_at=datetime.now(UTC))
            )
            return await self._load(conn, template_id)

    async def _load(self, conn: AsyncConnection, template_id: uuid.UUID, *, lock: bool = False) -> TemplateRecord:
        query = select(templates).where(templates.c.id == template_id)
        row = (await conn.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            raise not_found(f"template {template_id}")
        return TemplateRecord.from_row(row)

    async def _add_secret(self, conn: AsyncConnection, template_id: uuid.UUID) -> NewWebhookSecret:
        secret_id = uuid.uuid4()
        value = _new_whsec()
        sealed = self._notifier_key.seal(value, bound_to=webhook_secret_binding(str(template_id), str(secret_id)))
        await conn.execute(
            insert(webhook_secrets).values(id=secret_id, template_id=template_id, sealed=sealed.model_dump(mode="json"))
        )
        return NewWebhookSecret(value)

    async def _announce_permission_change(
        self, conn: AsyncConnection, template_id: uuid.UUID, before: TemplateSpec, after: TemplateSpec
    ) -> None:
        added = sorted(set(after.permissions) - set(before.permissions))
        removed = sorted(set(before.permissions) - set(after.permissions))
        if not added and not removed:
            return
        event = TemplatePermissionsChanged(
            template_id=template_id,
            integration_name=after.name,
            permissions=after.permissions,
            added=added,
            removed=removed,
            changed_at=datetime.now(UTC),
        )
        await add_event(conn, event, source=SOURCE)

    def _check_hook_url(self, spec: TemplateSpec) -> None:
        if isinstance(spec.delivery, HookUrlDelivery):
            refusal = hook_url_refusal(spec.delivery.url, dev_mode=self._dev_mode)
            if refusal:
                raise FieldErrors.one(("delivery", "url"), refusal)


def _is_hook(spec: TemplateSpec) -> bool:
    return isinstance(spec.delivery, HookUrlDelivery)
