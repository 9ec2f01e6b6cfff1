"""Legacy API keys: creation under the retirement policy, support exceptions, and answering introspection.

A key is stored only as a peppered digest (like client secrets); the plaintext exists once, in the 201
answer. Every creation and exception is written to the audit log (who, which tenant, why) — never the key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events.permissions import USERS_GROUP_PERMISSIONS
from vetgate_events.token import ApiKeyCreated
from vetgate_messaging.outbox import add_event
from vetgate_platform.logs import get_logger
from vetgate_platform.secrets import peppered, secret_digest

from vetgate_token.adapters.api_key_tables import (
    api_key_exceptions,
    api_key_policies,
    api_keys,
    tenant_environments,
)
from vetgate_token.domain.api_keys import (
    DEFAULT_REMINDER_DAYS,
    SHOWN_PREFIX_LENGTH,
    Environment,
    RetirementPolicy,
    new_key,
)

SOURCE = "/vetgate/token"
audit = get_logger("vetgate.audit")

KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.provet_id,
    api_keys.c.environment,
    api_keys.c.name,
    api_keys.c.integration,
    api_keys.c.owner_email,
    api_keys.c.key_prefix,
    api_keys.c.under_exception,
    api_keys.c.created_by,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.use_count,
    api_keys.c.revoked_at,
    api_keys.c.revocation_reason,
)


class CreationDisabled(Exception):
    """The policy forbids creating a key here now (HTTP 403 ``api_key_creation_disabled``)."""


@dataclass(frozen=True)
class KeyHolder:
    """What introspection says about an active key."""

    api_key_id: str
    provet_id: int
    created_at: datetime


async def environment_of(conn: AsyncConnection, provet_id: int) -> Environment:
    found = await conn.scalar(
        select(tenant_environments.c.environment).where(tenant_environments.c.provet_id == provet_id)
    )
    return "sandbox" if found == "sandbox" else "production"


async def set_environment(conn: AsyncConnection, provet_id: int, environment: Environment) -> None:
    statement = insert(tenant_environments).values(provet_id=provet_id, environment=environment)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["provet_id"], set_={"environment": environment, "updated_at": datetime.now(UTC)}
        )
    )


async def load_policy(conn: AsyncConnection, environment: Environment) -> RetirementPolicy:
    row = (await conn.execute(select(api_key_policies).where(api_key_policies.c.environment == environment))).first()
    if row is None:
        return RetirementPolicy(environment)  # no cut-off, no deadline
    return RetirementPolicy(environment, row.creation_cutoff, row.revocation_deadline, tuple(row.reminder_days))


async def save_policy(conn: AsyncConnection, policy: RetirementPolicy, actor: str) -> None:
    values = {
        "creation_cutoff": policy.creation_cutoff,
        "revocation_deadline": policy.revocation_deadline,
        "reminder_days": sorted(set(policy.reminder_days or DEFAULT_REMINDER_DAYS), reverse=True),
        "updated_by": actor,
        "updated_at": datetime.now(UTC),
    }
    statement = insert(api_key_policies).values(environment=policy.environment, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["environment"], set_=values))
    audit.info(
        "api key policy changed",
        actor=actor,
        environment=policy.environment,
        creation_cutoff=_iso(policy.creation_cutoff),
        revocation_deadline=_iso(policy.revocation_deadline),
    )


@dataclass
class ApiKeys:
    engine: AsyncEngine
    pepper: bytes

    def digest(self, key: str) -> str:
        return peppered(self.pepper, secret_digest(key))

    async def create(
        self, provet_id: int, *, name: str, integration: str | None, owner_email: str | None, actor: str
    ) -> tuple[dict[str, Any], str]:
        """The new key's record and the key itself (shown once), or :class:`CreationDisabled`."""
        now = datetime.now(UTC)
        key = new_key()
        async with self.engine.begin() as conn:
            environment = await environment_of(conn, provet_id)
            policy = await load_policy(conn, environment)
            exception_id = await conn.scalar(
                select(api_key_exceptions.c.id)
                .where(api_key_exceptions.c.provet_id == provet_id, api_key_exceptions.c.expires_at > now)
                .order_by(api_key_exceptions.c.expires_at.desc())
                .limit(1)
            )
            refusal = policy.creation_refusal(now, has_exception=exception_id is not None)
            if refusal is not None:
                audit.info("api key creation refused", actor=actor, provet_id=provet_id, environment=environment)
                raise CreationDisabled(refusal)
            # The exception is recorded on the key only when the key needed it.
            needed = exception_id if policy.creation_cutoff is not None and now >= policy.creation_cutoff else None
            key_id = str(uuid.uuid4())
            stored = await conn.execute(
                insert(api_keys)
                .values(
                    id=key_id,
                    provet_id=provet_id,
                    environment=environment,
                    name=name,
                    integration=integration,
                    owner_email=owner_email,
                    key_hash=self.digest(key),
                    key_prefix=key[:SHOWN_PREFIX_LENGTH],
                    under_exception=needed,
                    created_by=actor,
                    created_at=now,
                )
                .returning(*KEY_COLUMNS)
            )
            record = dict(stored.one()._mapping)
            await add_event(
                conn,
                ApiKeyCreated(
                    api_key_id=uuid.UUID(key_id),
                    provet_id=provet_id,
                    environment=environment,
                    name=name,
                    integration=integration,
                    owner_email=owner_email,
                    under_exception=needed is not None,
                    created_at=now,
                ),
                source=SOURCE,
            )
        audit.info(
            "api key created",
            actor=actor,
            provet_id=provet_id,
            api_key_id=key_id,
            environment=environment,
            under_exception=needed,
        )
        return record, key

    async def grant_exception(self, provet_id: int, *, reason: str, expires_at: datetime, actor: str) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            row = await conn.execute(
                insert(api_key_exceptions)
                .values(
                    id=str(uuid.uuid4()), provet_id=provet_id, reason=reason, expires_at=expires_at, granted_by=actor
                )
                .returning(api_key_exceptions)
            )
            granted = dict(row.one()._mapping)
        audit.info(
            "api key exception granted",
            actor=actor,
            provet_id=provet_id,
            exception_id=granted["id"],
            reason=reason,
            expires_at=_iso(expires_at),
        )
        return granted

    async def exceptions_of(self, provet_id: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(api_key_exceptions)
                .where(api_key_exceptions.c.provet_id == provet_id)
                .order_by(api_key_exceptions.c.granted_at)
            )
            return [dict(r._mapping) for r in rows]

    async def keys_of(self, provet_id: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(*KEY_COLUMNS).where(api_keys.c.provet_id == provet_id).order_by(api_keys.c.created_at)
            )
            return [dict(r._mapping) for r in rows]

    async def active_holder(self, key: str, provet_id: int) -> KeyHolder | None:
        """The key's holder if the key is active at this tenant (a key of another tenant is not)."""
        # Autocommit: one statement, so no BEGIN/ROLLBACK round trips on the introspection path.
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (
                await conn.execute(
                    select(api_keys.c.id, api_keys.c.provet_id, api_keys.c.created_at).where(
                        api_keys.c.key_hash == self.digest(key), api_keys.c.revoked_at.is_(None)
                    )
                )
            ).first()
        if row is None or row.provet_id != provet_id:
            return None
        return KeyHolder(row.id, row.provet_id, row.created_at)


def introspection_answer(holder: KeyHolder) -> dict[str, Any]:
    """RFC 7662 §2.2 for a key: no ``exp`` (a key lives until revoked); rights of the Users group."""
    subject = f"api-key:{holder.api_key_id}"
    return {
        "active": True,
        "token_type": "api_key",
        "jti": holder.api_key_id,
        "sub": subject,
        "client_id": subject,
        "provet_id": holder.provet_id,
        "scope": "restapi",
        "permissions": list(USERS_GROUP_PERMISSIONS),
        "roles": [],
        "iat": int(holder.created_at.timestamp()),
    }


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()
