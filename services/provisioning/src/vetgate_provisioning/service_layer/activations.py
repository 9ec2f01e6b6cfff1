"""An activation's life: credentials minted once when it starts, revoked once when it ends.

The inbox already drops a redelivered record, but not an operator's replay (``vetgate-reprocess``) or a
copy published again with a new event id. So the effects are idempotent themselves: the activation id
is claimed first (a primary key), and everything else happens only for the call that claimed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vetgate_events.catalogue import IntegrationActivated, IntegrationDeactivated
from vetgate_platform.logs import get_logger
from vetgate_platform.sealing import SealingPublicKey, client_secret_binding
from vetgate_platform.secrets import secret_digest

from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.domain.credentials import has_secret, has_virtual_user, new_client_id, new_client_secret
from vetgate_provisioning.domain.event_ids import client_provisioned_id, client_revoked_id
from vetgate_provisioning.service_layer.messages import client_provisioned, client_revoked
from vetgate_provisioning.service_layer.ports import Store

log = get_logger(__name__)


@dataclass(frozen=True)
class Activations:
    notifier_key: SealingPublicKey
    """Only the notifier can open what is sealed with it; the plaintext secret leaves this call sealed."""

    async def activate(self, event: IntegrationActivated, store: Store) -> None:
        if not await store.clients.claim_activation(event.activation_id, event.provet_id, event.template_id):
            log.info("activation seen before; nothing minted", activation_id=str(event.activation_id))
            return
        client_id = new_client_id(event.grant_type)
        virtual_user = None
        if has_virtual_user(event.grant_type):
            virtual_user = await store.virtual_users.enable(
                provet_id=event.provet_id,
                template_id=event.template_id,
                integration_name=event.integration_name,
                permissions=event.permissions,
                client_id=client_id,
                activation_id=event.activation_id,
            )
        client = Client(
            client_id=client_id,
            activation_id=event.activation_id,
            template_id=event.template_id,
            provet_id=event.provet_id,
            integration_name=event.integration_name,
            grant_type=event.grant_type,
            client_type=event.client_type,
            redirect_uris=tuple(event.redirect_uris),
            virtual_user_id=virtual_user.id if virtual_user else None,
            delivery=event.delivery,
        )
        secret = new_client_secret() if has_secret(event.client_type) else None
        secret_hash = secret_digest(secret) if secret else None
        sealed = self.notifier_key.seal(secret, bound_to=client_secret_binding(client_id)) if secret else None
        del secret  # from here on only the hash and the sealed copy exist
        await store.clients.add(client, secret_hash)
        provisioned = client_provisioned(client, virtual_user, secret_hash=secret_hash, sealed_secret=sealed)
        await store.emit([(provisioned, client_provisioned_id(event.activation_id))])
        log.info("client provisioned", client_id=client_id, activation_id=str(event.activation_id))

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
