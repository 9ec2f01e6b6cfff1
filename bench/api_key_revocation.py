"""Retiring legacy API keys at scale, through the whole running stack (`vetgate dev` on free ports).

1. Setup (not measured): N production keys (default 100,000) written straight into the token service's
   table, as a migration from the old platform would; a resource server (this process, the vetgate_authz
   library with its KeyRevoked feed) authenticates a working set of them (default 10,000, the library's
   default cache size) so they sit in its cache, as the keys in use at a busy resource server do.
2. Key authentication cost: p50/p99 of a cached ``Authorization: Token`` check in the library, next to a
   bearer JWT check; and of a whole catalogue request with each.
3. The deadline: the production policy's revocation deadline is moved to now; the clock runs until the job
   has revoked every key, until every KeyRevoked is on ``token.api-keys.v1``, and until the resource
   server refuses every cached key (pushed by KeyRevoked). Then a sample of keys it had never seen is
   checked too (each an introspection, which the token service answers from the revoked table).

Prints figures; asserts nothing.

    uv run python -m bench.api_key_revocation [--keys 100000] [--working-set 10000] [--uncached-sample 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr
from vetgate_authz import Authorizer, IntrospectionClient, InvalidToken, IssuerKeys, RevocationList, TokenVerifier
from vetgate_authz.api_key_revocations import RevokedApiKeys
from vetgate_authz.client_credentials import ClientCredentials, ClientCredentialsAuth
from vetgate_authz.feed import RevocationFeed
from vetgate_devstack.token_server import client_credentials_token
from vetgate_events.token import KeyRevoked
from vetgate_events.topics import TOKEN_API_KEYS
from vetgate_platform.secrets import peppered, secret_digest

from bench.activation_flow import run_with_stack

TENANT_BASE, KEYS_PER_TENANT, OWNERS = 500_000, 20, 500


async def write_keys(state: Path, credentials: dict[str, Any], count: int) -> list[tuple[int, str]]:
    """``count`` active production keys, stored as the token service stores them; returns (tenant, key)."""
    pepper = base64.b64decode(json.loads((state / "secrets.json").read_text())["VETGATE_TOKEN_SECRET_PEPPER"])
    keys = [(TENANT_BASE + i // KEYS_PER_TENANT, "vgk_" + secrets.token_urlsafe(32)) for i in range(count)]
    now = datetime.now(UTC)
    rows = [
        (
            uuid.uuid4(),
            tenant,
            "production",
            f"key {i}",
            f"Integration {i % 50}",
            f"owner{i % OWNERS}@bench-vet.com",
            peppered(pepper, secret_digest(key)),
            key[:10],
            "bench",
            now,
            0,
        )
        for i, (tenant, key) in enumerate(keys)
    ]
    columns = ["id", "provet_id", "environment", "name", "integration", "owner_email", "key_hash", "key_prefix"]
    conn = await asyncpg.connect(credentials["database_url"].replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.copy_records_to_table(
            "api_keys", schema_name="token", records=rows, columns=[*columns, "created_by", "created_at", "use_count"]
        )
    finally:
        await conn.close()
    return keys


def resource_server(
    urls: dict[str, str], credentials: dict[str, Any]
) -> tuple[Authorizer, RevocationFeed, IntrospectionClient]:
    """The library as a resource server builds it, with a cache long enough to hold every key meanwhile."""
    support = credentials["support"]
    http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64))
    auth = ClientCredentialsAuth(
        ClientCredentials(support["token_url"], support["client_id"], SecretStr(support["client_secret"])), http=http
    )
    revoked = RevokedApiKeys()
    keys = IntrospectionClient(token_base=urls["token"], auth=auth, http=http, revoked=revoked, positive_ttl=600)
    revocations = RevocationList()
    verifier = TokenVerifier(token_bases=[urls["token"]], keys=IssuerKeys(http=http))
    feed = RevocationFeed(credentials["kafka_bootstrap"], revocations, api_keys=revoked)
    return Authorizer(verifier, revocations, keys), feed, keys


async def prime(authorizer: Authorizer, keys: list[tuple[int, str]]) -> float:
    """Authenticate every key once (each an introspection); returns introspections per second."""
    queue = iter(keys)
    started = time.perf_counter()

    async def worker() -> None:
        for tenant, key in queue:
            await authorizer.authenticate(f"Token {key}", provet_id=tenant)

    await asyncio.gather(*(worker() for _ in range(32)))
    return len(keys) / (time.perf_counter() - started)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"p50 {statistics.median(ordered) * 1e6:,.1f} µs, p99 {ordered[int(len(ordered) * 0.99)] * 1e6:,.1f} µs"


async def auth_cost(authorizer: Authorizer, keys: list[tuple[int, str]], urls: dict[str, str], bearer: str) -> None:
    for label, header, tenant in (
        ("API key (cached)", f"Token {keys[0][1]}", keys[0][0]),
        ("bearer JWT", f"Bearer {bearer}", keys[0][0]),
    ):
        samples = []
        for _ in range(20_000):
            started = time.perf_counter()
            await authorizer.authenticate(header, provet_id=tenant)
            samples.append(time.perf_counter() - started)
        print(f"  library check, {label:<17} {percentiles(samples)}")
    async with httpx.AsyncClient(base_url=urls["catalogue"]) as http:
        for label, header in (("API key", f"Token {keys[0][1]}"), ("bearer JWT", f"Bearer {bearer}")):
            samples = []
            for i in range(1_500):
                started = time.perf_counter()
                r = await http.get(f"/v1/tenants/{keys[0][0]}/catalogue", headers={"Authorization": header})
                if i >= 500:  # the first ones warm caches (and the catalogue's own key cache)
                    samples.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
            print(f"  catalogue request, {label:<12} {percentiles(samples)}")


async def count_events(bootstrap: str, starts: dict[TopicPartition, int], expected: int, started: float) -> float:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(starts))
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        seen = 0
        wanted = KeyRevoked.event_type().encode()
        while seen < expected:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                seen += sum(1 for r in records if dict(r.headers or ()).get("ce_type") == wanted)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(TOKEN_API_KEYS, p) for p in consumer.partitions_for_topic(TOKEN_API_KEYS) or ()]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def all_refused(authorizer: Authorizer, keys: list[tuple[int, str]], started: float) -> float:
    left = list(keys)
    while left:
        still = []
        for tenant, key in left:
            try:
                await authorizer.authenticate(f"Token {key}", provet_id=tenant)
                still.append((tenant, key))
            except InvalidToken:
                pass
        left = still
        if left:
            await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def job_finished(http: httpx.AsyncClient, started: float) -> tuple[float, float]:
    """When the deadline's job was seen finished, and how long it ran by its own clock."""
    while True:
        jobs = (await http.get("/v1/api-keys/revocations")).json()["jobs"]
        done = [j for j in jobs if j["trigger"] == "deadline" and j["finished"]]
        if done:
            ran = datetime.fromisoformat(done[0]["finished_at"]) - datetime.fromisoformat(done[0]["started_at"])
            return time.perf_counter() - started, ran.total_seconds()
        await asyncio.sleep(0.5)


async def measure(urls: dict[str, str], state: Path, args: argparse.Namespace) -> None:
    count = args.keys
    credentials = json.loads((state / "dev-credentials.json").read_text())
    kafka = credentials["kafka_bootstrap"]
    keys = await write_keys(state, credentials, count)
    cached, uncached = keys[: args.working_set], keys[args.working_set :][: args.uncached_sample]
    authorizer, feed, introspection = resource_server(urls, credentials)
    feed_task = asyncio.create_task(feed.run())
    while not feed.caught_up:
        await asyncio.sleep(0.1)
    rate = await prime(authorizer, cached)
    print(f"{count:,} keys written; {len(cached):,} authenticated once ({rate:,.0f} introspections/s via the library)")
    bearer = await client_credentials_token(credentials["support"])
    await auth_cost(authorizer, keys, urls, bearer)

    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(base_url=urls["token"], headers=headers, timeout=120) as http:
        starts = await end_offsets(kafka)
        started = time.perf_counter()
        deadline = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        policy = await http.put("/v1/api-key-policies/production", json={"revocation_deadline": deadline})
        policy.raise_for_status()
        job, events, refused = await asyncio.gather(
            job_finished(http, started),
            count_events(kafka, starts, count, started),
            all_refused(authorizer, cached, started),
        )
        sample_started = time.perf_counter()
        await all_refused(authorizer, uncached, sample_started)
        sample = time.perf_counter() - sample_started
    print(f"deadline reached → {count:,} keys revoked by the job:            {job[0]:6.1f} s (job ran {job[1]:.1f} s)")
    print(f"                  → {count:,} KeyRevoked on {TOKEN_API_KEYS}:     {events:6.1f} s")
    print(f"                  → {len(cached):,} cached keys refused by the resource server: {refused:6.1f} s")
    print(f"then {len(uncached):,} keys it had never seen, each refused after an introspection, in {sample:.1f} s")
    feed_task.cancel()
    await introspection.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--working-set", type=int, default=10_000, help="keys the resource server has cached")
    parser.add_argument("--uncached-sample", type=int, default=1_000, help="never-seen keys checked afterwards")
    run_with_stack(measure, parser.parse_args())


if __name__ == "__main__":
    main()
