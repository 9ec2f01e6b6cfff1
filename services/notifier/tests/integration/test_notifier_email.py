"""Email delivery against a real (scripted) SMTP server, and the one-time reveal link with the real token service."""

from __future__ import annotations

import re

import httpx
import pytest
from notifier_support import (
    NotifierFactory,
    ScriptedSmtp,
    attempt_rows,
    credentials,
    mail_text,
    parse_mail,
    wait_for_status,
)
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.token_server import TokenServer
from vetgate_events.common import EmailDelivery
from vetgate_messaging import testing
from vetgate_platform.sealing import client_secret_binding

pytestmark = pytest.mark.integration

OWNER = EmailDelivery(address="ada@lab.example", owner_name="Ada Lab")


async def test_smtp_4xx_is_retried_and_the_mail_has_a_stable_message_id(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    smtp.replies = ["451 4.3.0 Try again later"]
    async with notifier_factory() as notifier:
        event, secret = credentials(notifier.keyring, OWNER)
        await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        row = await wait_for_status(notifier.engine, event.delivery_id, "delivered")
        tried = await attempt_rows(notifier.engine, event.delivery_id)
    assert (tried[0].outcome, tried[0].smtp_reply) == ("retry", "451 4.3.0 Try again later")
    assert tried[1].outcome == "delivered" and tried[1].smtp_reply.startswith("250")
    assert row.attempts == 2 and smtp.tried == 2 and len(smtp.accepted) == 1
    mail = parse_mail(smtp.accepted[0])
    assert mail["Message-ID"] == f"<delivery-{event.delivery_id}.0@vetgate.local>"
    assert mail["To"] == "ada@lab.example"
    text = mail_text(mail)
    assert 'Tenant 1001 has added your integration "Reminders"' in text
    assert event.client_id in text and event.token_url in text
    assert secret is not None and secret not in smtp.accepted[0].decode(), "by default only a reveal link"
    html = mail.get_body(("html",))
    assert html is not None and "/reveal/" in str(html.get_content())


async def test_smtp_5xx_fails_the_delivery_at_once(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    smtp.replies = ["550 5.1.1 No such mailbox"]
    async with notifier_factory() as notifier:
        event, _ = credentials(notifier.keyring, OWNER)
        await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        row = await wait_for_status(notifier.engine, event.delivery_id, "failed")
    assert row.attempts == 1 and smtp.accepted == []
    [attempt] = await attempt_rows(notifier.engine, event.delivery_id)
    assert attempt.outcome == "permanent" and attempt.smtp_reply == "550 5.1.1 No such mailbox"


async def test_required_starttls_is_never_downgraded(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    async with notifier_factory(smtp_starttls=True, retry_schedule=[0]) as notifier:
        event, _ = credentials(notifier.keyring, OWNER)
        await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        row = await wait_for_status(notifier.engine, event.delivery_id, "failed")
    assert smtp.tried == 0 and smtp.accepted == [], "no mail without TLS"
    assert "STARTTLS" in row.last_error


async def test_a_template_may_opt_into_the_secret_in_the_body(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    async with notifier_factory() as notifier:
        event, secret = credentials(notifier.keyring, OWNER.model_copy(update={"secret_in_body": True}))
        await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        await wait_for_status(notifier.engine, event.delivery_id, "delivered")
    text = mail_text(parse_mail(smtp.accepted[0]))
    assert secret is not None and secret in text and "/reveal/" not in text


async def test_the_revealed_secret_is_the_sealed_one_the_token_service_accepts_and_reveals_once(
    infra: Infrastructure,
    notifier_factory: NotifierFactory,
    smtp: ScriptedSmtp,
    token_server: TokenServer,
    capfd: pytest.CaptureFixture[str],
) -> None:
    async with notifier_factory() as notifier:
        provisioned, secret = testing.client_provisioned(1001)
        assert secret is not None
        sealed = notifier.keyring.public_key.seal(secret, bound_to=client_secret_binding(provisioned.client_id))
        provisioned = provisioned.model_copy(update={"sealed_secret": sealed, "delivery": OWNER})
        await testing.publish(infra.kafka_bootstrap, provisioned, "/vetgate/provisioning")
        issued = await testing.credentials_issued(infra.kafka_bootstrap, provisioned.client_id)
        await wait_for_status(notifier.engine, issued.delivery_id, "delivered")

        text = mail_text(parse_mail(smtp.accepted[-1]))
        match = re.search(r"http://notifier\.test(/reveal/\S+)", text)
        assert match is not None, text
        link = match.group(1)
        for _ in range(2):  # opening the link (a mail scanner, a second look) burns nothing
            page = await notifier.http.get(link)
            assert page.status_code == 200 and "Reveal the secret" in page.text and secret not in page.text
            assert page.headers["cache-control"] == "no-store"

        revealed = await notifier.http.post(link, headers={"accept": "application/json"})
        assert revealed.status_code == 200, revealed.text
        assert revealed.json()["client_secret"] == secret and revealed.json()["client_id"] == provisioned.client_id
        again = await notifier.http.post(link, headers={"accept": "application/json"})
        assert again.status_code == 410 and again.json()["error"] == "link_used"
        html_again = await notifier.http.post(link)
        assert html_again.status_code == 410 and "already been revealed" in html_again.text

    async with httpx.AsyncClient() as http:
        token = await http.post(
            issued.token_url,
            data={"grant_type": "client_credentials"},
            auth=(provisioned.client_id, revealed.json()["client_secret"]),
        )
    assert token.status_code == 200, token.text
    captured = capfd.readouterr()
    assert secret not in captured.out + captured.err


async def test_an_expired_or_unknown_link_reveals_nothing(
    infra: Infrastructure, notifier_factory: NotifierFactory, smtp: ScriptedSmtp
) -> None:
    async with notifier_factory(reveal_ttl=0) as notifier:
        event, secret = credentials(notifier.keyring, OWNER)
        await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        await wait_for_status(notifier.engine, event.delivery_id, "delivered")
        match = re.search(r"http://notifier\.test(/reveal/\S+)", mail_text(parse_mail(smtp.accepted[0])))
        assert match is not None
        expired = await notifier.http.post(match.group(1), headers={"accept": "application/json"})
        unknown = await notifier.http.post("/reveal/not-a-token", headers={"accept": "application/json"})
    assert expired.status_code == 410 and expired.json()["error"] == "link_expired"
    assert unknown.status_code == 404
    assert secret is not None and secret not in expired.text
