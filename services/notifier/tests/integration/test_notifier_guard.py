"""The SSRF guard: loopback targets only (never private or public addresses), refused unless allowed."""

from __future__ import annotations

import pytest
from notifier_support import NotifierFactory, attempt_rows, credentials, wait_for_status
from vetgate_devstack.infra import Infrastructure
from vetgate_messaging import testing
from vetgate_notifier.adapters.guarded_http import AddressRefused, guarded_client
from vetgate_notifier.domain.addresses import HookPolicy
from vetgate_notifier.testing import HookReceiver, always

pytestmark = pytest.mark.integration

LOOPBACK_SPELLINGS = ("localhost", "127.0.0.1", "127.0.0.2", "[::ffff:127.0.0.1]", "0.0.0.0", "[::1]")


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_the_guard_refuses_loopback_in_every_spelling(host: str) -> None:
    async with HookReceiver(always(200)).running() as receiver:
        async with guarded_client(HookPolicy(allow_loopback=False), timeout=2) as client:
            with pytest.raises(AddressRefused):
                await client.post(f"http://{host}:{receiver.port}/hooks/vetgate", content=b"{}")
    assert receiver.received == [], "nothing reached the receiver"


async def test_the_dev_stack_reaches_loopback_but_never_an_ipv4_mapped_address() -> None:
    async with HookReceiver(always(200)).running() as receiver:
        async with guarded_client(HookPolicy(allow_loopback=True), timeout=2) as client:
            ok = await client.post(f"http://localhost:{receiver.port}/hooks/vetgate", content=b"{}")
            with pytest.raises(AddressRefused):
                await client.post(f"http://[::ffff:127.0.0.1]:{receiver.port}/hooks/vetgate", content=b"{}")
    assert ok.status_code == 200 and len(receiver.received) == 1


async def test_with_the_guard_on_loopback_hooks_fail_permanently_and_nothing_is_sent(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    async with (
        HookReceiver(always(200)).running() as receiver,
        notifier_factory(dev_mode=False, allow_loopback_hooks=False) as notifier,
    ):
        hooks = {
            "name": f"https://localhost:{receiver.port}/hooks",
            "mapped": f"https://[::ffff:127.0.0.1]:{receiver.port}/hooks",
            "plain http": f"http://hooks.invalid:{receiver.port}/hooks",
        }
        events = {what: credentials(notifier.keyring, hook_url=url)[0] for what, url in hooks.items()}
        for event in events.values():
            await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
        rows = {what: await wait_for_status(notifier.engine, e.delivery_id, "failed") for what, e in events.items()}
    assert receiver.received == []
    assert all(row.attempts == 1 for row in rows.values()), "refusals are permanent: no retries"
    assert "localhost resolves to a refused address" in rows["name"].last_error
    assert "IPv4-embedding" in rows["mapped"].last_error
    assert rows["plain http"].last_error == "the hook URL must use https"


async def test_redirects_are_failures_and_are_never_followed(
    infra: Infrastructure, notifier_factory: NotifierFactory
) -> None:
    async with HookReceiver(always(200)).running() as target:
        redirect = always(302, {"location": target.url})
        async with HookReceiver(redirect).running() as receiver, notifier_factory() as notifier:
            event, _ = credentials(notifier.keyring, hook_url=receiver.url)
            await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
            row = await wait_for_status(notifier.engine, event.delivery_id, "failed")
            tried = await attempt_rows(notifier.engine, event.delivery_id)
    assert target.received == [], "the redirect target was never contacted"
    assert [a.status_code for a in tried] == [302, 302, 302] and row.last_error == "HTTP 302"
