"""Rotating an activation's client secret: new credentials through the same delivery channel, the old
secret working on for an overlap window so the integration can switch without downtime."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from vetgate_platform.logs import get_logger
from vetgate_platform.sealing import SealingPublicKey, client_secret_binding
from vetgate_platform.secrets import secret_digest

from vetgate_provisioning.domain.credentials import new_client_secret
from vetgate_provisioning.domain.errors import NotFound, VirtualUserDisabled
from vetgate_provisioning.domain.event_ids import secret_rotated_id
from vetgate_provisioning.domain.rotation import previous_secret_valid_until
from vetgate_provisioning.service_layer.messages import client_provisioned
from vetgate_provisioning.service_layer.ports import Store

log = get_logger(__name__)


@dataclass(frozen=True)
class Rotated:
    client_id: str
    previous_secret_valid_until: datetime


@dataclass(frozen=True)
class SecretRotation:
    notifier_key: SealingPublicKey
    default_overlap_seconds: int
    max_overlap_seconds: int

    async def rotate(
        self, store: Store, provet_id: int, activation_id: uuid.UUID, overlap_seconds: int | None
    ) -> Rotated:
        overlap = self.default_overlap_seconds if overlap_seconds is None else overlap_seconds
        valid_until = previous_secret_valid_until(datetime.now(UTC), overlap, self.max_overlap_seconds)
        client = await store.clients.get(provet_id, activation_id, lock=True)  # one rotation at a time
        if client is None:
            raise NotFound("no such application at this tenant")
        client.check_rotatable()
        user = None
        if client.virtual_user_id is not None:
            user = await store.virtual_users.get(provet_id, client.virtual_user_id)
            # ClientProvisioned (re-)enables the client at the token service: never for a disabled user.
            if user is None or not user.active or user.client_id != client.client_id:
                raise VirtualUserDisabled("the virtual user is disabled; enable it before rotating")
        secret = new_client_secret()
        secret_hash = secret_digest(secret)
        sealed = self.notifier_key.seal(secret, bound_to=client_secret_binding(client.client_id))
        del secret
        generation = await store.clients.rotate_secret(client.client_id, secret_hash, valid_until)
        event = client_provisioned(
            client, user, secret_hash=secret_hash, sealed_secret=sealed, previous_secret_valid_until=valid_until
        )
        await store.emit([(event, secret_rotated_id(activation_id, generation))])
        log.info("client secret rotated", client_id=client.client_id, generation=generation)
        return Rotated(client.client_id, valid_until)
