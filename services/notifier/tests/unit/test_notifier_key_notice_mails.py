"""What legacy-key notice mails say: reminders name each key and the deadline; ids are deterministic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from vetgate_notifier.adapters.mail_content import render
from vetgate_notifier.service_layer.key_notice_mails import Item, notice_mail, past_deadline

BATCH = uuid.UUID("5b0f1c1e-8f43-4b0e-9d55-0a1f1b3c7e21")
DEADLINE = datetime(2027, 3, 1, tzinfo=UTC)
MAIL_FROM = "Vetgate <no-reply@vetgate.example>"


def key(provet_id: int, name: str, last_used_at: datetime | None, **changes: Any) -> Item:
    return {
        "api_key_id": uuid.uuid4(),
        "provet_id": provet_id,
        "environment": "sandbox",
        "name": name,
        "integration": "LabLink",
        "last_used_at": last_used_at,
        "revocation_deadline": DEADLINE,
    } | changes


def parts(items: list[Item], mails_sent: int = 0) -> tuple[Any, str, str]:
    message = render(notice_mail("reminder", BATCH, "ada@lab.example", mails_sent, items), MAIL_FROM, DEADLINE)
    text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    return message, " ".join(text.get_content().split()), html.get_content()


def test_a_reminder_lists_each_key_the_environment_and_the_deadline() -> None:
    used = datetime(2027, 2, 3, 9, 30, tzinfo=UTC)
    message, text, _ = parts([key(1001, "front desk", used), key(1002, "lab sync", None, integration=None)])
    assert (
        message["Subject"]
        == "Legacy API keys at 2 tenant(s) will be revoked at 2027-03-01 00:00 UTC: move to OAuth 2.0"
    )
    assert "(sandbox environment) are still active. Vetgate will revoke them at 2027-03-01 00:00 UTC" in text
    assert 'tenant 1001 (sandbox): key "front desk", LabLink, last used 2027-02-03 09:30 UTC' in text
    assert 'tenant 1002 (sandbox): key "lab sync", unnamed integration, no recorded use' in text
    assert "How to move to OAuth 2.0" in text and "(client_credentials)" in text


def test_a_key_name_cannot_inject_markup_into_the_html_part() -> None:
    _, _, html = parts([key(1001, "<script>alert(1)</script>", None)])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_message_id_is_the_same_for_a_retry_and_new_for_a_follow_up() -> None:
    items = [key(1001, "front desk", None)]
    first, retry, follow_up = (parts(items, n)[0]["Message-ID"] for n in (0, 0, 1))
    assert first == retry and first.startswith(f"<keys-reminder-{BATCH}-") and first.endswith(".0@vetgate.example>")
    assert follow_up != first and follow_up.endswith(".1@vetgate.example>")


def test_only_a_reminder_whose_deadline_has_passed_is_withheld() -> None:
    items = [key(1001, "front desk", None)]
    assert not past_deadline("reminder", items, DEADLINE - timedelta(seconds=1))
    assert past_deadline("reminder", items, DEADLINE)
    assert not past_deadline("revoked", [{"reason": "retired", "provet_id": 1001}], DEADLINE)
