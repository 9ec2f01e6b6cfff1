"""Opening the secrets a delivery carries — in memory, at send time, and only with the right binding."""

from __future__ import annotations

from vetgate_events.token import CredentialsIssued
from vetgate_platform.sealing import SealingError, SealingKeyring, client_secret_binding


class SecretOpener:
    def __init__(self, keyring: SealingKeyring) -> None:
        self._keyring = keyring

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
        opened = []
        prefix = f"whsec:{issued.template_id}:"
        for sealed in issued.delivery.signing_secrets:
            if not sealed.aad_event_id.startswith(prefix):
                raise SealingError("a signing secret is bound to another template")
            opened.append(self._keyring.open(sealed, bound_to=sealed.aad_event_id))
        return opened
