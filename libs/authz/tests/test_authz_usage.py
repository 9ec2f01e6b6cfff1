"""API-key uses answered from the cache reach the token service in batches: never lost, never sent twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from authz_key_server import SUPPORT, FakeTokenService, key_answer, key_checker
from authz_testkit import BASE, Clock
from vetgate_authz import ClientCredentialsAuth, KeyUses, UsageMeter, UsageReporter

KEY_A, KEY_B = "vk_live_usage_a_0123456789ab", "vk_live_usage_b_0123456789ab"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class WallClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def reporter(service: FakeTokenService, meter: UsageMeter, http: Any, **kwargs: Any) -> UsageReporter:
    auth = ClientCredentialsAuth(SUPPORT, http=http)
    return UsageReporter(meter, url=f"{BASE}/v1/api-keys/usage", auth=auth, http=http, **kwargs)


def totals(service: FakeTokenService) -> dict[str, tuple[int, str]]:
    """Per key id: the uses reported in all accepted reports, and the latest time."""
    result: dict[str, tuple[int, str]] = {}
    for report in service.usage_reports:
        for use in report:
            count, last = result.get(use["api_key_id"], (0, ""))
            result[use["api_key_id"]] = (count + use["count"], max(last, use["last_used_at"]))
    return result


async def test_uses_answered_from_the_cache_are_counted_and_reported_once() -> None:
    service = FakeTokenService({KEY_A: key_answer(1), KEY_B: key_answer(2)})
    async with service.http() as http:
        checker = key_checker(service, Clock(0.0), http)
        for key, tenant, times in ((KEY_A, 1, 4), (KEY_B, 2, 1)):
            for _ in range(times):
                await checker.authorizer.authenticate(f"Token {key}", provet_id=tenant)
        assert len(service.introspections) == 2, "the token service counted these two uses itself"

        usage = reporter(service, checker.meter, http)
        assert await usage.report() is True
        assert await usage.report() is True, "nothing new: nothing sent again"
    id_a = service.keys[KEY_A]["jti"]
    assert len(service.usage_reports) == 1
    (use,) = service.usage_reports[0]
    assert (use["api_key_id"], use["count"]) == (id_a, 3), "KEY_B's only use was its introspection"
    assert datetime.fromisoformat(use["last_used_at"]).utcoffset() == timedelta(0), "ISO 8601 with its offset"


async def test_a_failed_report_is_merged_into_the_next() -> None:
    wall = WallClock()
    meter = UsageMeter(now=wall)
    service = FakeTokenService(usage_status=503)
    async with service.http() as http:
        usage = reporter(service, meter, http)
        for _ in range(3):
            meter.record("key-a")
        wall.now = T0 + timedelta(seconds=1)
        meter.record("key-b")
        assert await usage.report() is False
        assert service.usage_attempts == 1 and service.usage_reports == []

        wall.now = T0 + timedelta(seconds=7)
        meter.record("key-a")
        service.usage_status = 202
        assert await usage.report() is True
        assert await usage.report() is True
    assert totals(service) == {
        "key-a": (4, (T0 + timedelta(seconds=7)).isoformat()),
        "key-b": (1, (T0 + timedelta(seconds=1)).isoformat()),
    }
    assert len(service.usage_reports) == 1


async def test_many_keys_go_in_batches_and_a_failure_keeps_the_unsent_ones() -> None:
    meter = UsageMeter()
    service = FakeTokenService()
    async with service.http() as http:
        usage = reporter(service, meter, http, max_batch=2)
        for n in range(5):
            meter.record(f"key-{n}")
        assert await usage.report() is True
        assert [len(batch) for batch in service.usage_reports] == [2, 2, 1]

        for n in range(5):
            meter.record(f"key-{n}")
        service.usage_failing_attempts = {service.usage_attempts + 2}  # this round's second batch
        assert await usage.report() is False
        assert len(meter) == 3, "the failed batch and the one after it are kept; the first was delivered"
        assert await usage.report() is True
    assert {key: count for key, (count, _) in totals(service).items()} == {f"key-{n}": 2 for n in range(5)}


async def test_the_reporter_runs_every_interval_and_reports_once_more_when_stopped() -> None:
    meter = UsageMeter()
    service = FakeTokenService()
    async with service.http() as http:
        usage = reporter(service, meter, http, interval=0.05)
        task = asyncio.create_task(usage.run())
        meter.record("key-a")
        for _ in range(100):
            if service.usage_reports:
                break
            await asyncio.sleep(0.01)
        assert [[(use["api_key_id"], use["count"]) for use in batch] for batch in service.usage_reports] == [
            [("key-a", 1)]
        ]
        meter.record("key-b")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [use["api_key_id"] for batch in service.usage_reports for use in batch] == ["key-a", "key-b"]
    assert len(meter) == 0


async def test_uses_of_a_report_cancelled_mid_request_are_kept() -> None:
    meter = UsageMeter()
    service = FakeTokenService()
    async with service.http() as http:
        usage = reporter(service, meter, http)
        service.usage_hang = True
        meter.record("key-a")
        task = asyncio.create_task(usage.report())
        await service.usage_received.wait()
        meter.record("key-a")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert meter.take()["key-a"].count == 2


async def test_more_uses_of_a_key_than_one_report_may_carry_go_in_the_next() -> None:
    meter = UsageMeter()
    service = FakeTokenService()
    async with service.http() as http:
        usage = reporter(service, meter, http)
        meter.give_back({"key-a": KeyUses(25_000_000, T0)})  # a long outage's worth
        for _ in range(3):
            assert await usage.report() is True
    assert [[use["count"] for use in batch] for batch in service.usage_reports] == [
        [10_000_000],
        [10_000_000],
        [5_000_000],
    ]
