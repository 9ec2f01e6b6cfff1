"""Sealed secrets open only with the recipient's key and only in the context they were sealed to."""

import pytest
from vetgate_platform.sealing import SealingError, SealingKeyring, SealingPublicKey


def test_a_sealed_secret_opens_with_the_recipients_key_and_binding() -> None:
    keyring = SealingKeyring.generate()
    producer_side = SealingPublicKey.from_base64(keyring.public_key.to_base64())
    sealed = producer_side.seal("s3cr3t-value", bound_to="event-1")
    assert "s3cr3t-value" not in sealed.model_dump_json()
    assert keyring.open(sealed, bound_to="event-1") == "s3cr3t-value"


def test_each_seal_is_fresh() -> None:
    keyring = SealingKeyring.generate()
    first = keyring.public_key.seal("same", bound_to="e")
    second = keyring.public_key.seal("same", bound_to="e")
    assert first.ciphertext != second.ciphertext


def test_a_value_lifted_into_another_context_does_not_open() -> None:
    keyring = SealingKeyring.generate()
    sealed = keyring.public_key.seal("secret", bound_to="event-1")
    with pytest.raises(SealingError):
        keyring.open(sealed, bound_to="event-2")
    with pytest.raises(SealingError):
        keyring.open(sealed.model_copy(update={"aad_event_id": "event-2"}))


def test_another_key_or_tampering_is_refused() -> None:
    sealed = SealingKeyring.generate().public_key.seal("secret", bound_to="e")
    with pytest.raises(SealingError, match="no private key"):
        SealingKeyring.generate().open(sealed)
    mine = SealingKeyring.generate()
    good = mine.public_key.seal("secret", bound_to="e")
    flipped = good.ciphertext[:-2] + ("A" if good.ciphertext[-2] != "A" else "B") + good.ciphertext[-1]
    with pytest.raises(SealingError):
        mine.open(good.model_copy(update={"ciphertext": flipped}))


def test_a_rotated_keyring_still_opens_values_sealed_to_the_previous_key() -> None:
    old = SealingKeyring.generate()
    sealed = old.public_key.seal("secret", bound_to="e")
    new = SealingKeyring.generate()
    rotated = SealingKeyring.from_base64(f"{new.to_base64()},{old.to_base64()}")
    assert rotated.public_key.key_id == new.public_key.key_id
    assert rotated.open(sealed) == "secret"
