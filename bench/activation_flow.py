"""The activation flow end to end, through the whole running stack (`vetgate dev` on free ports).

1. Latency: N activations (default 500) added at R/s (default 20) by tenants of a live template; the clock
   runs from the add request to the signed credentials arriving at a local hook receiver (p50/p99).
2. Go-live fan-out: one template published to T tenants (default 10,000); time until all T credential sets
   have arrived at the hook.

Prints figures; asserts nothing.

    uv run python -m bench.activation_flow [--activations 500] [--rate 20] [--tenants 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from vetgate_devstack.infra import free_port
from vetgate_devstack.token_server import client_credentials_token
from vetgate_notifier.testing import HookReceiver

SERVICES = ("token", "catalogue", "provisioning", "notifier")


def arrivals(receiver: HookReceiver, path: str) -> dict[int, float]:
    """When each tenant's credentials first reached ``path`` (perf_counter)."""
    first: dict[int, float] = {}
    for hook in receiver.accepted():
        if hook.path == path:
            first.setdefault(json.loads(hook.body)["provet_id"], hook.at)
    return first


async def until_hooked(receiver: HookReceiver, path: str, count: int, timeout: float) -> dict[int, float]:
    # Polled twice a second, not on every arrival: the bench must not compete with what it measures.
    deadline = time.monotonic() + timeout
    while len(seen := arrivals(receiver, path)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: only {len(seen)} of {count}")
        await asyncio.sleep(0.5)
    return seen


def start_stack(state: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}}
    env |= {"VETGATE_HOME": str(state), "LOG_LEVEL": "WARNING"}
    for name in SERVICES:
        env[f"VETGATE_{name.upper()}_PORT"] = str(free_port())
    for var in ("VETGATE_KAFKA_PORT", "VETGATE_KAFKA_CONTROLLER_PORT", "VETGATE_SMTP_PORT"):
        env[var] = str(free_port())
    proc = subprocess.Popen([sys.executable, "-m", "vetgate_devstack.cli", "dev"], env=env, stdout=subprocess.DEVNULL)
    urls = {n: f"http://127.0.0.1:{env[f'VETGATE_{n.upper()}_PORT']}" for n in SERVICES}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if all(httpx.get(f"{u}/readyz").status_code == 200 for u in urls.values()):
                return proc, urls
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    raise TimeoutError("stack not ready")


async def support_headers(state: Path) -> dict[str, str]:
    support = json.loads((state / "dev-credentials.json").read_text())["support"]
    return {"Authorization": f"Bearer {await client_credentials_token(support)}"}


async def live_template(http: httpx.AsyncClient, hook_url: str, tenants: list[int]) -> str:
    """A template made public (and added to ``tenants``) at once."""
    body = {
        "name": f"Bench {uuid.uuid4().hex[:6]}",
        "owner": {"name": "Bench", "email": "bench@example.org"},
        "grant_type": "client_credentials",
        "delivery": {"kind": "hook_url", "url": hook_url},
    }
    created = await http.post("/v1/templates", json=body)
    created.raise_for_status()
    template_id: str = created.json()["id"]
    published = await http.post(f"/v1/templates/{template_id}/publish", json={"tenants": tenants}, timeout=300)
    published.raise_for_status()
    return template_id


async def measure(urls: dict[str, str], state: Path, args: argparse.Namespace) -> None:
    async with HookReceiver().running() as receiver:
        await measure_with(receiver, urls, state, args)


async def measure_with(receiver: HookReceiver, urls: dict[str, str], state: Path, args: argparse.Namespace) -> None:
    hook = receiver.origin
    headers = await support_headers(state)
    async with httpx.AsyncClient(base_url=urls["catalogue"], headers=headers, timeout=60) as http:
        # Warm-up (not measured): group joins, first JWKS fetches, connection pools.
        await live_template(http, f"{hook}/warmup", [9001, 9002])
        await until_hooked(receiver, "/warmup", 2, 120)

        template_id = await live_template(http, f"{hook}/latency", [])
        sent: dict[int, float] = {}
        tenants = range(20_001, 20_001 + args.activations)
        paced_from = time.perf_counter()
        for i, provet_id in enumerate(tenants):
            await asyncio.sleep(max(0.0, paced_from + i / args.rate - time.perf_counter()))
            sent[provet_id] = time.perf_counter()
            added = await http.post(f"/v1/tenants/{provet_id}/applications", json={"template_id": template_id})
            added.raise_for_status()
        hooked = await until_hooked(receiver, "/latency", args.activations, 300)
        latencies = sorted((hooked[t] - sent[t]) * 1000 for t in tenants)
        print(
            f"activation → credentials at the hook, {args.activations} activations at {args.rate}/s: "
            f"p50 {statistics.median(latencies):.0f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.0f} ms, "
            f"max {latencies[-1]:.0f} ms"
        )
        to_wall = time.time() - time.perf_counter()
        await print_stages(
            urls, state, {t: sent[t] + to_wall for t in tenants}, {t: hooked[t] + to_wall for t in tenants}
        )

        body = {
            "name": f"Bench go-live {uuid.uuid4().hex[:6]}",
            "owner": {"name": "Bench", "email": "bench@example.org"},
            "grant_type": "client_credentials",
            "delivery": {"kind": "hook_url", "url": f"{hook}/golive"},
        }
        created = await http.post("/v1/templates", json=body)
        created.raise_for_status()
        go_live = list(range(100_001, 100_001 + args.tenants))
        started = time.perf_counter()
        path = f"/v1/templates/{created.json()['id']}/publish"
        published = await http.post(path, json={"tenants": go_live}, timeout=300)
        published.raise_for_status()
        accepted = time.perf_counter() - started
        golive = await until_hooked(receiver, "/golive", args.tenants, 600)
        arrivals = sorted(golive[t] - started for t in go_live)
        print(
            f"go-live to {args.tenants:,} tenants: publish answered in {accepted:.1f} s; first credentials after "
            f"{arrivals[0]:.1f} s, half after {arrivals[len(arrivals) // 2]:.1f} s, all after {arrivals[-1]:.1f} s "
            f"({args.tenants / arrivals[-1]:,.0f} credential sets/s)"
        )


async def print_stages(urls: dict[str, str], state: Path, sent: dict[int, float], hooked: dict[int, float]) -> None:
    """Where the time goes, from the events' ce_time (each stamped inside its producer's transaction)."""
    from vetgate_events.topics import CATALOGUE_ACTIVATIONS, PROVISIONING_CLIENTS, TOKEN_CREDENTIALS
    from vetgate_messaging.testing import read_topic

    bootstrap = json.loads((state / "dev-credentials.json").read_text())["kafka_bootstrap"]
    stamps: dict[str, dict[int, float]] = {}
    for topic in (CATALOGUE_ACTIVATIONS, PROVISIONING_CLIENTS, TOKEN_CREDENTIALS):
        seen: dict[int, float] = {}
        for r in await read_topic(bootstrap, topic):
            body, headers = json.loads(r.value or b"{}"), dict(r.headers)
            wanted = topic != CATALOGUE_ACTIVATIONS or b"Activated" in headers.get("ce_type", b"")
            if body.get("provet_id") in sent and wanted:
                seen.setdefault(body["provet_id"], datetime.fromisoformat(headers["ce_time"].decode()).timestamp())
        stamps[topic] = seen
    chain = [("add request", sent)] + [(t, stamps[t]) for t in stamps] + [("hook", hooked)]
    for (name_a, a), (name_b, b) in itertools.pairwise(chain):
        deltas = sorted((b[t] - a[t]) * 1000 for t in sent if t in a and t in b)
        if deltas:
            p50, p99 = statistics.median(deltas), deltas[int(len(deltas) * 0.99) - 1]
            print(f"  {name_a} → {name_b}: p50 {p50:.0f} ms, p99 {p99:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activations", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--tenants", type=int, default=10_000)
    run_with_stack(measure, parser.parse_args())


def run_with_stack(
    measure: Callable[[dict[str, str], Path, argparse.Namespace], Coroutine[Any, Any, None]], args: argparse.Namespace
) -> None:
    """``measure(urls, state, args)`` against a stack started for it (in a temporary state directory)."""
    with tempfile.TemporaryDirectory(prefix="vetgate-bench-") as tmp:
        state = Path(tmp)
        proc, urls = start_stack(state)
        try:
            asyncio.run(measure(urls, state, args))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(120)


if __name__ == "__main__":
    main()
