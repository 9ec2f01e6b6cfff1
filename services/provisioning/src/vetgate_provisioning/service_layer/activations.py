"""An activation's life: credentials minted once when it starts, revoked once when it ends.

The inbox already drops a redelivered record, but not an operator's replay (``vetgate-reprocess``) or a
copy published again with a new event id. So the effects are idempotent themselves: the activation id
is claimed first (a primary key), and everything else happens only for the call that claimed it.
Activations arrive in runs (a go-live is one per tenant), so they are provisioned many per transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from vetgate_events.catalogue import IntegrationActivated, IntegrationDeactivated
from vetgate_events.provisioning import ClientProvisioned
from vetgate_platform.logs import get_logger
from vetgate_platform.sealing import SealingPublicKey, client_secret_binding
from vetgate_platform.secrets import secret_digest

from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.domain.credentials import has_secret, has_virtual_user, new_client_id, new_client_secret
from vetgate_provisioning.domain.event_ids import client_provisioned_id, client_revoked_id
from vetgate_provisioning.domain.template_changes import rights_at_provisioning
from vetgate_provisioning.domain.virtual_users import NewVirtualUser, TenantTemplate, VirtualUser
from vetgate_provisioning.service_layer.messages import client_provisioned, client_revoked
from vetgate_provisioning.service_layer.ports import Store

log = get_logger(__name__)


@dataclass(frozen=True)
class Activations:
    notifier_key: SealingPublicKey
    """Only the notifier can open what is sealed with it; the plaintext secret leaves this class sealed."""

    async def activate(self, events: Sequence[IntegrationActivated], store: Store) -> None:
        claimed = await store.clients.claim_activations([(e.activation_id, e.provet_id, e.template_id) for e in events])
        fresh: dict[uuid.UUID, IntegrationActivated] = {}
        for event in events:
            if event.activation_id in claimed:
                fresh.setdefault(event.activation_id, event)  # a second copy in the same run mints nothing
            else:
                log.info("activation seen before; nothing minted", activation_id=str(event.activation_id))
        for wave in _one_per_virtual_user(list(fresh.values())):
            await self._provision(wave, store)

    async def _provision(self, events: list[IntegrationActivated], store: Store) -> None:
        client_ids = [new_client_id(e.grant_type) for e in events]
        with_users = [(e, cid) for e, cid in zip(events, client_ids, strict=True) if has_virtual_user(e.grant_type)]
        later = []
        if with_users:
            templates = {e.template_id for e, _ in with_users}
            later = await store.template_changes.since(templates, min(e.activated_at for e, _ in with_users))
        users = await store.virtual_users.enable(
            [
                NewVirtualUser(
                    e.provet_id,
                    e.template_id,
                    e.integration_name,
                    rights_at_provisioning(e.template_id, e.permissions, e.activated_at, later),
                    client_id,
                    e.activation_id,
                )
                for e, client_id in with_users
            ]
        )
        clients, emitted = [], []
        for event, client_id in zip(events, client_ids, strict=True):
            user = users.get((event.provet_id, event.template_id)) if has_virtual_user(event.grant_type) else None
            client = _client(event, client_id, user.id if user else None)
            secret_hash, provisioned = self._credentials(client, user)
            clients.append((client, secret_hash))
            emitted.append((provisioned, client_provisioned_id(event.activation_id)))
        await store.clients.add(clients)
        await store.emit(emitted)
        for client, _ in clients:
            log.info("client provisioned", client_id=client.client_id, activation_id=str(client.activation_id))

    def _credentials(self, client: Client, user: VirtualUser | None) -> tuple[str | None, ClientProvisioned]:
        if not has_secret(client.client_type):
            return None, client_provisioned(client, user, secret_hash=None, sealed_secret=None)
        secret = new_client_secret()
        secret_hash = secret_digest(secret)
        sealed = self.notifier_key.seal(secret, bound_to=client_secret_binding(client.client_id))
        # From here on only the hash and the sealed copy exist.
        return secret_hash, client_provisioned(client, user, secret_hash=secret_hash, sealed_secret=sealed)

    async def deactivate(self, event: IntegrationDeactivated, store: Store) -> None:
        client = await store.clients.end_activation(event.activation_id, event.provet_id, event.template_id)
        if client is None:
            log.info("activation already removed; nothing to revoke", activation_id=str(event.activation_id))
            return
        if client.virtual_user_id is not None:
            await store.virtual_users.disable_for_activation(event.activation_id)
        revoked = client_revoked(client, "application removed from the tenant")
        await store.emit([(revoked, client_revoked_id(event.activation_id))])
        log.info("client revoked", client_id=client.client_id, activation_id=str(event.activation_id))


def _client(event: IntegrationActivated, client_id: str, virtual_user_id: uuid.UUID | None) -> Client:
    return Client(
        client_id=client_id,
        activation_id=event.activation_id,
        template_id=event.template_id,
        provet_id=event.provet_id,
        integration_name=event.integration_name,
        grant_type=event.grant_type,
        client_type=event.client_type,
        redirect_uris=tuple(event.redirect_uris),
        virtual_user_id=virtual_user_id,
        delivery=event.delivery,
    )


def _one_per_virtual_user(events: list[IntegrationActivated]) -> list[list[IntegrationActivated]]:
    """Split into waves with at most one activation per (tenant, template), in order: two activations of
    one template at one tenant share a virtual user, so the later one must see the earlier one's."""
    waves: list[tuple[set[TenantTemplate], list[IntegrationActivated]]] = []
    for event in events:
        key = (event.provet_id, event.template_id)
        wave = next((w for w in waves if key not in w[0]), None)
        if wave is None:
            wave = (set(), [])
            waves.append(wave)
        wave[0].add(key)
        wave[1].append(event)
    return [w[1] for w in waves]
