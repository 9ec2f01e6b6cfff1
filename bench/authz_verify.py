"""Offline access-token verification throughput on one core (vetgate_authz.TokenVerifier).

Signs N distinct ES256 tokens, fetches the JWKS once from an in-process ASGI app, then verifies in a loop
for a few seconds. Prints figures; asserts nothing. Three figures:

- full verification (``cache_size=0``): signature, header and every claim checked on every call;
- remembered tokens (the default cache): the same tokens presented again, as clients do for 10 h;
- for context, the floor underneath: joserfc ``jwt.decode`` alone and one raw OpenSSL ECDSA P-256 verify.

    uv run python -m bench.authz_verify [--tokens 2000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


async def rate(label: str, seconds: float, tokens: list[str], verify: Callable[[str], Awaitable[object]]) -> None:
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for i in range(done, done + 200):
            await verify(tokens[i % len(tokens)])
        done += 200
    print(f"{label:<42} {done / elapsed:>9,.0f} /s {elapsed / done * 1e6:>7.1f} µs each ({done:,} in {elapsed:.1f} s)")


async def main(count: int, seconds: float) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    key = ECKey.generate_key("P-256", auto_kid=True)
    public = ECKey.import_key(key.as_dict(private=False))
    tokens = sign_tokens(key, count)
    app = FastAPI()

    @app.get("/{provet_id}/oauth2/jwks/")
    async def jwks(provet_id: int) -> dict[str, object]:
        return {"keys": [public.as_dict()]}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        full = TokenVerifier(token_bases=[BASE], keys=IssuerKeys(http=http), cache_size=0)
        cached = TokenVerifier(token_bases=[BASE], keys=IssuerKeys(http=http), cache_size=count)
        await full.verify(tokens[0], provet_id=1)  # the one JWKS fetch
        print(f"{count} distinct ES256 tokens, {seconds:.0f} s per figure, one core, {os.cpu_count()} on host")
        await rate("TokenVerifier.verify, full verification", seconds, tokens, lambda t: full.verify(t, provet_id=1))
        await rate("TokenVerifier.verify, remembered tokens", seconds, tokens, lambda t: cached.verify(t, provet_id=1))

    async def decode_only(token: str) -> object:
        return jwt.decode(token, public, algorithms=["ES256"])

    await rate("floor: joserfc jwt.decode only", seconds, tokens, decode_only)
    raw_key = ec.generate_private_key(ec.SECP256R1())
    message = tokens[0].rsplit(".", 1)[0].encode()
    signature = raw_key.sign(message, ec.ECDSA(hashes.SHA256()))
    public_raw = raw_key.public_key()

    async def ecdsa_only(_: str) -> object:
        public_raw.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return None

    await rate("floor: OpenSSL ECDSA P-256 verify only", seconds, tokens, ecdsa_only)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.seconds))
