"""The delivery log API with real tokens from the real token service: tenant admins see their own
tenant, support sees and recovers everything."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notifier_support import NotifierFactory, credentials, wait_for_status
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.token_server import TokenServer
from vetgate_messaging import testing
from vetgate_notifier.testing import HookReceiver, always

pytestmark = pytest.mark.integration


async def test_the_delivery_log_shows_every_attempt_and_redeliver_and_recover_deliver(
    infra: Infrastructure, notifier_factory: NotifierFactory, token_server: TokenServer
) -> None:
    support = await token_server.support_headers()
    admin = await token_server.admin_headers(1001)
    async with (
        HookReceiver(always(500)).running() as receiver,
        notifier_factory(token_base_url=token_server.base_url) as notifier,
    ):
        started = datetime.now(UTC)
        mine, _ = credentials(notifier.keyring, hook_url=receiver.url, provet_id=1001)
        theirs, _ = credentials(notifier.keyring, hook_url=receiver.url, provet_id=1002)
        for event in (mine, theirs):
            await testing.publish(infra.kafka_bootstrap, event, "/vetgate/token")
            await wait_for_status(notifier.engine, event.delivery_id, "failed")
        http = notifier.http

        listed = await http.get("/v1/tenants/1001/deliveries", headers=admin)
        assert listed.status_code == 200, listed.text
        assert [d["delivery_id"] for d in listed.json()["deliveries"]] == [str(mine.delivery_id)]
        detail = (await http.get(f"/v1/tenants/1001/deliveries/{mine.delivery_id}", headers=admin)).json()
        assert detail["status"] == "failed" and detail["destination"] == receiver.url
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 500]
        assert all(
            a["latency_ms"] >= 0 and a["attempted_at"] and a["error"] == "HTTP 500" for a in detail["attempt_log"]
        )
        assert "credentials" not in detail, "sealed material stays in the ledger"

        # Another tenant's admin, and admins on support routes, are refused; no token is a 401.
        assert (await http.get("/v1/tenants/1002/deliveries", headers=admin)).status_code in (401, 403)
        other_tenant = await http.get(f"/v1/tenants/1002/deliveries/{theirs.delivery_id}", headers=admin)
        assert other_tenant.status_code in (401, 403)
        since = {"since": started.isoformat()}
        assert (await http.post("/v1/deliveries/recover", json=since, headers=admin)).status_code == 403
        assert (await http.get("/v1/tenants/1001/deliveries")).status_code == 401
        wrong_tenant = await http.post(f"/v1/tenants/1001/deliveries/{theirs.delivery_id}/redeliver", headers=admin)
        assert wrong_tenant.status_code == 404

        receiver.responder = always(204)
        redelivered = await http.post(f"/v1/tenants/1001/deliveries/{mine.delivery_id}/redeliver", headers=admin)
        assert redelivered.status_code == 202 and redelivered.json()["queued"] is True
        assert (await wait_for_status(notifier.engine, mine.delivery_id, "delivered")).generation == 1

        first_page = (await http.get("/v1/deliveries", params={"limit": 1}, headers=support)).json()["deliveries"]
        before = {"limit": 1, "before": first_page[0]["created_at"]}
        second_page = (await http.get("/v1/deliveries", params=before, headers=support)).json()["deliveries"]
        assert {first_page[0]["delivery_id"], second_page[0]["delivery_id"]} == {
            str(mine.delivery_id),
            str(theirs.delivery_id),
        }
        everything = (await http.get("/v1/deliveries", params={"status": "failed"}, headers=support)).json()
        assert str(theirs.delivery_id) in {d["delivery_id"] for d in everything["deliveries"]}
        recovered = await http.post("/v1/deliveries/recover", json=since, headers=support)
        assert recovered.status_code == 202 and recovered.json()["delivery_ids"] == [str(theirs.delivery_id)]
        await wait_for_status(notifier.engine, theirs.delivery_id, "delivered")
        log = (await http.get(f"/v1/deliveries/{theirs.delivery_id}", headers=support)).json()["attempt_log"]
    assert [(a["generation"], a["status_code"]) for a in log] == [(0, 500), (0, 500), (0, 500), (1, 204)]
