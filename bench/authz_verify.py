"""Offline access-token verification throughput on one core (vetgate_authz.TokenVerifier).

Signs N distinct ES256 tokens, fetches the JWKS once from an in-process ASGI app, then verifies in a loop.
Prints figures; asserts nothing. The figures are measured in interleaved one-second windows, several rounds,
so that the host's noise (this is a VM sharing its cores) falls on all of them alike; each prints its median
and best window. Figures:

- full verification (``cache_size=0``): signature, header and every claim checked on every call;
- remembered tokens (the default cache): the same tokens presented again, as clients do for 10 h;
- for context: joserfc ``jwt.decode`` alone, and the floor underneath — OpenSSL's ECDSA P-256 verify of the
  same tokens, signature and signing input decoded beforehand.

    uv run python -m bench.authz_verify [--tokens 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey
from vetgate_authz import IssuerKeys, TokenVerifier
from vetgate_authz.claims import b64url
from vetgate_authz.verify import der_signature

BASE = "http://auth.bench"


def sign_tokens(key: ECKey, count: int, provet_id: int = 1) -> list[str]:
    now = int(time.time())
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    return [
        jwt.encode(
            header,
            {
                "iss": f"{BASE}/{provet_id}/oauth2",
                "aud": "vetgate",
                "sub": f"virtual-user-{i}",
                "client_id": f"client-{i % 50}",
                "provet_id": provet_id,
                "scope": "restapi",
                "permissions": ["patients-clients", "consultations", "invoices"],
                "roles": [],
                "jti": str(uuid.uuid4()),
                "iat": now,
                "nbf": now,
                "exp": now + 36_000,
            },
            key,
            algorithms=["ES256"],
        )
        for i in range(count)
    ]


Verify = Callable[[str], Awaitable[object]]


async def window(tokens: list[str], verify: Verify, seconds: float = 1.0) -> float:
    """Verifications per second over one window."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for i in range(done, done + 200):
            await verify(tokens[i % len(tokens)])
        done += 200
    return done / elapsed


async def measure(rounds: int, tokens: list[str], figures: dict[str, Verify]) -> None:
    rates: dict[str, list[float]] = {label: [] for label in figures}
    for _ in range(rounds):
        for label, verify in figures.items():
            rates[label].append(await window(tokens, verify))
    for label, measured in rates.items():
        median, best = statistics.median(measured), max(measured)
        print(f"{label:<42} {median:>9,.0f} /s {1e6 / median:>7.1f} µs each (median of {rounds}; best {best:,.0f} /s)")


_ES256 = ec.ECDSA(hashes.SHA256())


def _ecdsa_parts(token: str) -> tuple[bytes, bytes]:
    message, _, encoded = token.rpartition(".")
    return der_signature(b64url(encoded)), message.encode()


async def main(count: int, rounds: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    key = ECKey.generate_key("P-256", auto_kid=True)
    public = ECKey.import_key(key.as_dict(private=False))
    tokens = sign_tokens(key, count)
    app = FastAPI()

    @app.get("/{provet_id}/oauth2/jwks/")
    async def jwks(provet_id: int) -> dict[str, object]:
        return {"keys": [public.as_dict()]}

    # The floor: the very ECDSA verifications of these tokens, their DER signature and signing input
    # prepared beforehand — what is left between it and full verification is the library's own cost.
    prepared = {token: _ecdsa_parts(token) for token in tokens}
    public_raw = public.public_key

    async def decode_only(token: str) -> object:
        return jwt.decode(token, public, algorithms=["ES256"])

    async def ecdsa_only(token: str) -> object:
        signature, message = prepared[token]
        public_raw.verify(signature, message, _ES256)
        return None

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        full = TokenVerifier(token_bases=[BASE], keys=IssuerKeys(http=http), cache_size=0)
        cached = TokenVerifier(token_bases=[BASE], keys=IssuerKeys(http=http), cache_size=count)
        await full.verify(tokens[0], provet_id=1)  # the one JWKS fetch
        print(f"{count} distinct ES256 tokens, {rounds} rounds of 1 s windows, one core, {os.cpu_count()} on host")
        await measure(
            rounds,
            tokens,
            {
                "TokenVerifier.verify, full verification": lambda t: full.verify(t, provet_id=1),
                "TokenVerifier.verify, remembered tokens": lambda t: cached.verify(t, provet_id=1),
                "floor: joserfc jwt.decode only": decode_only,
                "floor: OpenSSL ECDSA P-256 verify only": ecdsa_only,
            },
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.rounds))
