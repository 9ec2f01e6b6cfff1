"""The notifier's rules without I/O: retry schedule, verdicts, the hook-up payload, address checks."""

from __future__ import annotations

import ipaddress
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook
from vetgate_events.common import EmailDelivery
from vetgate_events.token import CredentialsIssued
from vetgate_notifier.adapters.webhook_sender import signature_header
from vetgate_notifier.config import DEFAULT_SCHEDULE, NotifierSettings
from vetgate_notifier.domain.addresses import HookPolicy, refusal_for_address, refusal_for_url
from vetgate_notifier.domain.payload import FIELDS, hookup_payload, payload_bytes, webhook_id
from vetgate_notifier.domain.schedule import RetrySchedule
from vetgate_notifier.domain.verdicts import Verdict, http_verdict, parse_retry_after, smtp_verdict

GUARDED = HookPolicy(allow_loopback=False)
DEV = HookPolicy(allow_loopback=True)


def issued(**changes: object) -> CredentialsIssued:
    base = CredentialsIssued(
        delivery_id=uuid.uuid4(),
        activation_id=uuid.uuid4(),
        template_id=uuid.uuid4(),
        provet_id=54321,
        client_id="int-abc",
        integration_name="Reminders",
        grant_type="authorization_code",
        client_type="confidential",
        redirect_uris=["https://app.example/cb", "https://app.example/cb2"],
        sealed_secret=None,
        id_token_algorithm="ES256",
        token_url="https://vetgate.example/54321/oauth2/token/",
        authorize_url="https://vetgate.example/54321/oauth2/authorize/",
        openid_autodiscovery_url="https://vetgate.example/54321/oauth2/.well-known/openid-configuration",
        delivery=EmailDelivery(address="owner@example.com"),
        issued_at=datetime.now(UTC),
    )
    return base.model_copy(update=changes)


def test_default_schedule_is_eight_attempts_over_about_28_hours() -> None:
    assert NotifierSettings(dev_mode=True).retry_schedule == DEFAULT_SCHEDULE
    schedule = RetrySchedule(DEFAULT_SCHEDULE, jitter=0)
    delays = [schedule.next_delay(n) for n in range(8)]
    assert delays == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert schedule.next_delay(8) is None, "after the last attempt nothing is left"
    assert timedelta(seconds=sum(DEFAULT_SCHEDULE)) == timedelta(hours=27, minutes=35, seconds=5)


def test_jitter_spreads_retries_but_keeps_them_near_the_schedule() -> None:
    schedule = RetrySchedule([0, 300], jitter=0.1, rng=random.Random(7))
    seen = {schedule.next_delay(1) for _ in range(50)}
    assert len(seen) > 40 and all(270 <= d <= 330 for d in seen if d is not None)
    assert schedule.first_delay() == 0, "immediate stays immediate"


def test_retry_after_is_honoured_but_bounded() -> None:
    schedule = RetrySchedule([0, 5, 5], jitter=0)
    assert schedule.next_delay(1, retry_after=120) == 120
    assert schedule.next_delay(1, retry_after=1) == 5, "never sooner than the schedule"
    assert schedule.next_delay(1, retry_after=10**9) == 86_400
    assert parse_retry_after("30") == 30
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (301, Verdict.RETRY),
        (302, Verdict.RETRY),
        (400, Verdict.PERMANENT),
        (401, Verdict.PERMANENT),
        (404, Verdict.PERMANENT),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
    ],
)
def test_only_2xx_delivers_and_most_4xx_stop_early(status: int, verdict: Verdict) -> None:
    assert http_verdict(status) is verdict


def test_smtp_5xx_is_permanent_and_4xx_transient() -> None:
    assert smtp_verdict(250) is Verdict.DELIVERED
    assert smtp_verdict(451) is Verdict.RETRY
    assert smtp_verdict(550) is Verdict.PERMANENT


def test_hookup_payload_has_the_ten_fields() -> None:
    event = issued()
    payload = hookup_payload(event, "s3cret")
    assert tuple(payload) == FIELDS and len(FIELDS) == 10
    assert payload["redirect_uris"] == "https://app.example/cb https://app.example/cb2"
    assert payload["authorization_grant_type"] == "authorization_code"
    assert payload["algorithm"] == "ES256" and payload["client_secret"] == "s3cret"
    public = hookup_payload(issued(client_type="public", redirect_uris=[]), None)
    assert public["client_secret"] is None and public["redirect_uris"] == ""
    assert json.loads(payload_bytes(payload)) == payload
    assert payload_bytes(payload) == payload_bytes(hookup_payload(event, "s3cret")), "same body every attempt"


def test_webhook_id_is_a_function_of_the_delivery() -> None:
    delivery = uuid.uuid4()
    assert webhook_id(delivery) == webhook_id(delivery) == f"msg_{delivery.hex}"
    assert webhook_id(uuid.uuid4()) != webhook_id(delivery)


def test_both_signatures_verify_during_a_rotation() -> None:
    old, new = "whsec_" + "A" * 32, "whsec_" + "B" * 32
    body = payload_bytes(hookup_payload(issued(), "s"))
    now = datetime.now(UTC)
    header = signature_header("msg_1", now, body, [new, old])
    assert header.count("v1,") == 2
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": header}
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["client_id"] == "int-abc"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "0.0.0.0",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:7f00:1::",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fc00::1",
        "100.64.0.1",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal_for_address(ipaddress.ip_address(address), GUARDED) is not None


def test_public_addresses_pass_and_dev_allows_loopback_only() -> None:
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        assert refusal_for_address(ipaddress.ip_address(address), GUARDED) is None
    assert refusal_for_address(ipaddress.ip_address("127.0.0.1"), DEV) is None
    assert refusal_for_address(ipaddress.ip_address("::1"), DEV) is None
    for still_refused in ("10.0.0.1", "::ffff:127.0.0.1", "0.0.0.0", "169.254.169.254"):
        assert refusal_for_address(ipaddress.ip_address(still_refused), DEV) is not None


def test_hook_urls_must_be_https_outside_the_dev_stack() -> None:
    assert refusal_for_url("https://hooks.example/x", GUARDED) is None
    assert refusal_for_url("http://hooks.example/x", GUARDED) == "the hook URL must use https"
    assert refusal_for_url("http://127.0.0.1:9000/x", DEV) is None
    assert refusal_for_url("ftp://hooks.example/x", DEV) is not None
    assert refusal_for_url("https://user:pw@hooks.example/", GUARDED) is not None
    assert refusal_for_url("https://hooks.example:99999/", GUARDED) is not None
