"""Secrets open only with the binding of the delivery they ride in."""

from __future__ import annotations

import uuid

import pytest
from test_notifier_domain import issued
from vetgate_events.common import HookDelivery
from vetgate_notifier.service_layer.sealed import SecretOpener
from vetgate_platform.sealing import SealingError, SealingKeyring, client_secret_binding, webhook_secret_binding


def test_the_client_secret_opens_only_for_its_own_client() -> None:
    keyring = SealingKeyring.generate()
    opener = SecretOpener(keyring)
    mine = issued(sealed_secret=keyring.public_key.seal("s3cret", bound_to=client_secret_binding("int-abc")))
    assert opener.client_secret(mine) == "s3cret"
    lifted = issued(client_id="int-other", sealed_secret=mine.sealed_secret)
    with pytest.raises(SealingError):
        opener.client_secret(lifted)
    elsewhere = SealingKeyring.generate().public_key.seal("x", bound_to=client_secret_binding("int-abc"))
    with pytest.raises(SealingError):
        opener.client_secret(issued(sealed_secret=elsewhere))
    assert opener.client_secret(issued(client_type="public")) is None


def test_signing_secrets_open_only_for_their_template_in_rotation_order() -> None:
    keyring = SealingKeyring.generate()
    opener = SecretOpener(keyring)
    template = uuid.uuid4()
    new, old = (
        keyring.public_key.seal(w, bound_to=webhook_secret_binding(str(template), i))
        for w, i in (("whsec_new", "2"), ("whsec_old", "1"))
    )
    hook = HookDelivery(url="https://hooks.example/x", signing_secrets=[new, old])
    event = issued(template_id=template, delivery=hook)
    assert opener.signing_secrets(event) == ["whsec_new", "whsec_old"]
    assert opener.signing_secrets(event) == ["whsec_new", "whsec_old"], "the cached answer is the same"
    with pytest.raises(SealingError):
        opener.signing_secrets(issued(template_id=uuid.uuid4(), delivery=hook))
