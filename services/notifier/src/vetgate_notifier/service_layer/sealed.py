"""Opening the secrets a delivery carries — in memory, at send time, and only with the right binding."""

from __future__ import annotations

import time
from collections import OrderedDict

from vetgate_events.common import SealedValue
from vetgate_events.token import CredentialsIssued
from vetgate_platform.sealing import SealingError, SealingKeyring, client_secret_binding


class SecretOpener:
    def __init__(self, keyring: SealingKeyring, signing_cache_seconds: float = 300.0, cache_size: int = 1024) -> None:
        self._keyring = keyring
        self._ttl = signing_cache_seconds
        self._size = cache_size
        # A template's signing secret signs every delivery of a go-live (thousands): opening it once per
        # few minutes instead of per attempt halves the HPKE work. Client secrets are never kept.
        self._signing: OrderedDict[SealedValue, tuple[float, str]] = OrderedDict()

    def client_secret(self, issued: CredentialsIssued) -> str | None:
        """The plaintext client secret (None for public clients). Raises SealingError when it was sealed
        to another key or for another client: it must never be handed out as this client's secret."""
        if issued.sealed_secret is None:
            return None
        return self._keyring.open(issued.sealed_secret, bound_to=client_secret_binding(issued.client_id))

    def signing_secrets(self, issued: CredentialsIssued) -> list[str]:
        """The template's ``whsec_`` secrets, current first (two during a rotation overlap)."""
        if issued.delivery.kind != "hook_url":
            return []
        prefix = f"whsec:{issued.template_id}:"
        opened = []
        for sealed in issued.delivery.signing_secrets:
            if not sealed.aad_event_id.startswith(prefix):
                raise SealingError("a signing secret is bound to another template")
            opened.append(self._signing_secret(sealed))
        return opened

    def _signing_secret(self, sealed: SealedValue) -> str:
        now = time.monotonic()
        cached = self._signing.get(sealed)
        if cached is not None and cached[0] > now:
            return cached[1]
        secret = self._keyring.open(sealed, bound_to=sealed.aad_event_id)
        self._signing[sealed] = (now + self._ttl, secret)
        self._signing.move_to_end(sealed)
        while len(self._signing) > self._size:
            self._signing.popitem(last=False)
        return secret
