"""Secrets sealed to one recipient for their trip over Kafka (HPKE, RFC 9180: X25519, HKDF-SHA256, AES-256-GCM).

Producers (catalogue, provisioning) hold only the notifier's public key, so a secret on the bus — or in a
producer's database — can be opened by the notifier alone. The HPKE ``info`` binds the ciphertext to an id
(the event that first carried it, or the record it belongs to): a sealed value lifted into another context
does not open.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from vetgate_events.common import SealedValue

ALG = "HPKE-X25519-SHA256-AES256GCM"
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
_ENC_LENGTH = 32  # an X25519 encapsulated key


class SealingError(ValueError):
    """A sealed value that cannot be opened here (wrong key, wrong binding, tampered, unknown scheme)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _info(bound_to: str) -> bytes:
    return b"vetgate-sealed-v1:" + bound_to.encode()


def client_secret_binding(client_id: str) -> str:
    """What a client secret is sealed to: it cannot be passed off as another client's secret."""
    return f"client-secret:{client_id}"


def webhook_secret_binding(template_id: str, secret_id: str) -> str:
    """What a template's ``whsec_`` signing secret is sealed to."""
    return f"whsec:{template_id}:{secret_id}"


def key_id(public_key: X25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class SealingPublicKey:
    """What a producer holds: it can seal, never open."""

    def __init__(self, public_key: X25519PublicKey) -> None:
        self._key = public_key
        self.key_id = key_id(public_key)

    @classmethod
    def from_base64(cls, text: str) -> SealingPublicKey:
        try:
            return cls(X25519PublicKey.from_public_bytes(base64.b64decode(text)))
        except ValueError as exc:
            raise ValueError("a sealing public key is base64 of 32 raw X25519 bytes") from exc

    def to_base64(self) -> str:
        return base64.b64encode(self._key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

    def seal(self, plaintext: str, *, bound_to: str) -> SealedValue:
        sealed = _SUITE.encrypt(plaintext.encode(), self._key, info=_info(bound_to))
        return SealedValue(
            alg=ALG,
            recipient_key_id=self.key_id,
            encapsulated_key=_b64(sealed[:_ENC_LENGTH]),
            ciphertext=_b64(sealed[_ENC_LENGTH:]),
            aad_event_id=bound_to,
        )


class SealingKeyring:
    """What the recipient holds: its current private key and, during a key rotation, earlier ones."""

    def __init__(self, private_keys: list[X25519PrivateKey]) -> None:
        if not private_keys:
            raise ValueError("a sealing keyring needs at least one private key")
        self._keys = {key_id(k.public_key()): k for k in private_keys}
        self.public_key = SealingPublicKey(private_keys[0].public_key())

    @classmethod
    def generate(cls) -> SealingKeyring:
        return cls([X25519PrivateKey.generate()])

    @classmethod
    def from_base64(cls, text: str) -> SealingKeyring:
        """Comma-separated base64 raw private keys, the current one first."""
        try:
            keys = [X25519PrivateKey.from_private_bytes(base64.b64decode(p)) for p in text.split(",") if p.strip()]
        except ValueError as exc:
            raise ValueError("sealing private keys are comma-separated base64 of 32 raw X25519 bytes") from exc
        return cls(keys)

    def to_base64(self) -> str:
        raw = (k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) for k in self._keys.values())
        return ",".join(base64.b64encode(r).decode() for r in raw)

    def open(self, sealed: SealedValue, *, bound_to: str | None = None) -> str:
        """The plaintext; ``bound_to`` (when given) must be the id the value was sealed to."""
        if sealed.alg != ALG:
            raise SealingError(f"unknown sealing scheme {sealed.alg!r}")
        if bound_to is not None and bound_to != sealed.aad_event_id:
            raise SealingError("sealed value is bound to another id")
        key = self._keys.get(sealed.recipient_key_id)
        if key is None:
            raise SealingError(f"no private key {sealed.recipient_key_id!r} here")
        try:
            blob = _unb64(sealed.encapsulated_key) + _unb64(sealed.ciphertext)
            return _SUITE.decrypt(blob, key, info=_info(sealed.aad_event_id)).decode()
        except (InvalidTag, ValueError) as exc:
            raise SealingError("sealed value does not open (tampered or sealed to another key)") from exc
