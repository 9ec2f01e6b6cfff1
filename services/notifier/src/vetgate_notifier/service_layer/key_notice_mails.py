"""What a legacy-key notice mail says, by kind: the keys that were revoked, or the keys that will be."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from vetgate_notifier.adapters.mail_content import Mail

NoticeKind = Literal["revoked", "reminder"]
Item = dict[str, Any]
"""One row of key_notice_items."""


def notice_mail(kind: NoticeKind, batch_id: UUID, owner_email: str, mails_sent: int, items: list[Item]) -> Mail:
    owner_tag = hashlib.sha256(owner_email.encode()).hexdigest()[:16]
    # The same on every retry of one mail; a follow-up mail of the notice (mails_sent + 1) gets its own.
    message_key = f"keys-{kind}-{batch_id}-{owner_tag}.{mails_sent}"
    tenants = len({i["provet_id"] for i in items})
    if kind == "reminder":
        deadline = utc(earliest_deadline(items))
        return Mail(
            to=owner_email,
            subject=f"Legacy API keys at {tenants} tenant(s) will be revoked at {deadline}: move to OAuth 2.0",
            template="keys_reminder",
            message_key=message_key,
            context={"items": [_reminded(i) for i in items], "deadline": deadline, "environment": _only(items)},
        )
    reasons = sorted({i["reason"] for i in items})
    return Mail(
        to=owner_email,
        subject=f"Legacy API keys revoked at {tenants} tenant(s): move to OAuth 2.0",
        template="keys_revoked",
        message_key=message_key,
        context={"items": items, "reason": reasons[0] if len(reasons) == 1 else None},
    )


def past_deadline(kind: NoticeKind, items: list[Item], now: datetime) -> bool:
    """A reminder that could not go out before its deadline would tell the owner something false."""
    return kind == "reminder" and earliest_deadline(items) <= now


def earliest_deadline(items: list[Item]) -> datetime:
    # A batch has one deadline; should one ever mix them, the earliest is the one the owner must not miss.
    deadline: datetime = min(i["revocation_deadline"] for i in items)
    return deadline


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _reminded(item: Item) -> Item:
    last_used = item["last_used_at"]
    return {
        "provet_id": item["provet_id"],
        "environment": item["environment"],
        "name": item["name"],
        "integration": item["integration"],
        "last_used": None if last_used is None else utc(last_used),
    }


def _only(items: list[Item]) -> str | None:
    environments = {i["environment"] for i in items}
    return environments.pop() if len(environments) == 1 else None
