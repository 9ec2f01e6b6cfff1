"""Signing keys: ES256, encrypted at rest, rotated with overlap, loaded once into memory.

A new key signs from the moment it is created; the previous one is retired but stays in the JWKS
until every token it signed has expired (retired_at + access-token lifetime).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vetgate_token.adapters.tables import signing_keys

ALGORITHM = "ES256"
_ES256 = ec.ECDSA(hashes.SHA256())


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@dataclass
class KeyRing:
    kek: bytes
    access_token_ttl: timedelta
    _signing: ECKey | None = None
    _signer: tuple[ec.EllipticCurvePrivateKey, bytes] | None = None  # the current key and its encoded header + "."
    _published: list[dict[str, Any]] = field(default_factory=list)
    _verification: KeySet = field(default_factory=lambda: KeySet([]))
    verified_claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tokens whose signature verified against the current keys (introspection sees the same ones often)."""

    def sign(self, claims: dict[str, Any]) -> str:
        """An RFC 9068 access token (``typ: at+jwt``) signed with the current key.

        RFC 7515 compact serialization signed with ES256 (RFC 7518 §3.4: R || S, 32 bytes each), written
        out over OpenSSL rather than through joserfc's JWS layer, which cost a third as much again as the
        signature itself on the token endpoint's hot path; joserfc still verifies what this makes
        (introspection, the resource-server library and the tests). The encoded header is the same for
        every token of a key, so it is made once per key."""
        if self._signer is None:
            raise RuntimeError("no signing key loaded")
        private_key, encoded_header = self._signer
        signing_input = encoded_header + _b64(orjson.dumps(claims))
        r, s = decode_dss_signature(private_key.sign(signing_input, _ES256))
        return (signing_input + b"." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))).decode("ascii")

    def sign_id_token(self, claims: dict[str, Any]) -> str:
        """An OpenID Connect ID token (``typ: JWT``), same keys and JWKS as the access tokens."""
        if self._signing is None:
            raise RuntimeError("no signing key loaded")
        header = {"alg": ALGORITHM, "typ": "JWT", "kid": self._signing.kid}
        return jwt.encode(header, claims, self._signing, algorithms=[ALGORITHM])

    def verification_keys(self) -> KeySet:
        """The published keys, imported once per load (importing per request would dominate)."""
        return self._verification

    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self._published)}

    async def load(self, conn: AsyncConnection) -> None:
        rows = (await conn.execute(select(signing_keys).order_by(signing_keys.c.created_at))).all()
        now = datetime.now(UTC)
        published = [
            json.loads(r.public_jwk) for r in rows if r.retired_at is None or r.retired_at + self.access_token_ttl > now
        ]
        if published != self._published:
            self._verification = KeySet([ECKey.import_key(k) for k in published])
            self.verified_claims.clear()  # verified against keys that may be gone
        self._published = published
        active = [r for r in rows if r.retired_at is None]
        self._signing = self._decrypt(active[-1].kid, active[-1].private_jwk_encrypted) if active else None
        self._signer = None
        if self._signing is not None:
            header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": self._signing.kid}
            private_key = self._signing.private_key
            assert isinstance(private_key, ec.EllipticCurvePrivateKey)
            self._signer = private_key, _b64(orjson.dumps(header)) + b"."

    async def ensure_current(self, conn: AsyncConnection, rotate_after: timedelta) -> bool:
        """Create a key if there is none or the current one is due; True when a key was created."""
        # Replicas starting together must not each create a key.
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('token:signing-keys'))"))
        current = (
            await conn.execute(
                select(signing_keys.c.kid, signing_keys.c.created_at).where(signing_keys.c.retired_at.is_(None))
            )
        ).first()
        if current is not None and current.created_at + rotate_after > datetime.now(UTC):
            return False
        await conn.execute(
            update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=datetime.now(UTC))
        )
        kid = uuid.uuid4().hex
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"})
        await conn.execute(
            insert(signing_keys).values(
                kid=kid,
                algorithm=ALGORITHM,
                private_jwk_encrypted=self._encrypt(kid, json.dumps(key.as_dict(private=True)).encode()),
                public_jwk=json.dumps(key.as_dict(private=False)),
            )
        )
        return True

    def _encrypt(self, kid: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.kek).encrypt(nonce, plaintext, kid.encode())

    def _decrypt(self, kid: str, blob: bytes) -> ECKey:
        plaintext = AESGCM(self.kek).decrypt(blob[:12], blob[12:], kid.encode())
        return ECKey.import_key(json.loads(plaintext))
