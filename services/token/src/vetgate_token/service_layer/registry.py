"""The client registry follows provisioning's events; it speaks up only when credentials work.

Each handler runs inside the inbox transaction, so a redelivered or replayed event changes nothing
and emits nothing twice; events it emits carry ids derived from the cause (uuid5) for the same reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_events.provisioning import ClientProvisioned, ClientRevoked, VirtualUserChanged
from vetgate_events.token import ClientDisabled, CredentialsIssued
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_messaging.outbox import add_event
from vetgate_platform.secrets import peppered

from vetgate_token.adapters.client_store import ClientStore
from vetgate_token.domain.claims import issuer
from vetgate_token.domain.clients import RegisteredClient, grant_types_for
from vetgate_token.service_layer.access_tokens import SOURCE, revoke_client_tokens
from vetgate_token.service_layer.revocation_cache import RevocationCache

_DERIVED = uuid.UUID("5b0f3f1e-2f7c-4a53-9d59-0a8f8f3c7d11")


def derived_id(cause: str, what: str) -> uuid.UUID:
    """A stable id for the event ``what`` caused by event ``cause``: redoing the work reuses it."""
    return uuid.uuid5(_DERIVED, f"{what}:{cause}")


@dataclass
class RegistryHandlers:
    store: ClientStore
    pepper: bytes
    base_url: str
    access_token_ttl: int
    revocations: RevocationCache

    def register(self, consumer: EventConsumer) -> None:
        # A go-live provisions thousands of clients back to back: one transaction per run of them.
        consumer.handles_batch(ClientProvisioned)(self.on_clients_provisioned)
        consumer.handles(ClientRevoked)(self.on_client_revoked)
        consumer.handles(VirtualUserChanged)(self.on_virtual_user_changed)

    async def on_clients_provisioned(
        self, batch: list[tuple[ClientProvisioned, Delivery]], conn: AsyncConnection
    ) -> None:
        for event, delivery in batch:
            await self.on_client_provisioned(event, conn, delivery)

    async def on_client_provisioned(self, event: ClientProvisioned, conn: AsyncConnection, d: Delivery) -> None:
        client = RegisteredClient(
            client_id=event.client_id,
            provet_id=event.provet_id,
            name=f"Integration {event.integration_name}",
            client_type=event.client_type,
            grant_types=tuple(grant_types_for(event.grant_type)),
            redirect_uris=tuple(event.redirect_uris),
            subject=str(event.virtual_user_id) if event.virtual_user_id else event.client_id,
            permissions=tuple(event.permissions),
            roles=(),
            active=True,
        )
        await self.store.upsert(conn, client, str(event.activation_id))
        digest = peppered(self.pepper, event.secret_hash) if event.secret_hash else None
        await self.store.replace_secret(conn, event.client_id, digest, event.previous_secret_valid_until)
        # Committed together with the registration: by the time anyone delivers these credentials,
        # this service accepts them.
        tenant = issuer(self.base_url, event.provet_id)
        delivery_id = derived_id(d.envelope.id, "delivery")
        await add_event(
            conn,
            CredentialsIssued(
                delivery_id=delivery_id,
                activation_id=event.activation_id,
                template_id=event.template_id,
                provet_id=event.provet_id,
                client_id=event.client_id,
                integration_name=event.integration_name,
                grant_type=event.grant_type,
                client_type=event.client_type,
                redirect_uris=event.redirect_uris,
                sealed_secret=event.sealed_secret,
                id_token_algorithm="ES256" if event.grant_type == "authorization_code" else None,
                token_url=f"{tenant}/token/",
                authorize_url=f"{tenant}/authorize/",
                openid_autodiscovery_url=f"{tenant}/.well-known/openid-configuration",
                delivery=event.delivery,
                issued_at=datetime.now(UTC),
            ),
            source=SOURCE,
            event_id=delivery_id,
        )

    async def on_client_revoked(self, event: ClientRevoked, conn: AsyncConnection, d: Delivery) -> None:
        watermark = await revoke_client_tokens(
            conn,
            client_id=event.client_id,
            provet_id=event.provet_id,
            reason=f"client revoked: {event.reason}",
            lifetime_seconds=self.access_token_ttl,
            event_id=derived_id(d.envelope.id, "token-revoked"),
            revocations=self.revocations,
        )
        await self.store.set_state(conn, event.client_id, active=False, tokens_issued_from=watermark)
        await self.store.replace_secret(conn, event.client_id, None, None)  # its secrets are gone for good
        await add_event(
            conn,
            ClientDisabled(
                client_id=event.client_id,
                provet_id=event.provet_id,
                reason=event.reason,
                disabled_at=datetime.now(UTC),
            ),
            source=SOURCE,
            event_id=derived_id(d.envelope.id, "client-disabled"),
        )

    async def on_virtual_user_changed(self, event: VirtualUserChanged, conn: AsyncConnection, d: Delivery) -> None:
        before = await self.store.load(conn, event.client_id)
        if before is None:
            return  # the client is not registered (yet): ClientProvisioned carries current rights
        lost_rights = set(before.permissions) - set(event.permissions)
        watermark = None
        if lost_rights or not event.active:
            # A right taken away must not live on in tokens already issued.
            watermark = await revoke_client_tokens(
                conn,
                client_id=event.client_id,
                provet_id=event.provet_id,
                reason="virtual user disabled" if not event.active else "permissions withdrawn",
                lifetime_seconds=self.access_token_ttl,
                event_id=derived_id(d.envelope.id, "token-revoked"),
                revocations=self.revocations,
            )
        await self.store.set_state(
            conn, event.client_id, active=event.active, permissions=event.permissions, tokens_issued_from=watermark
        )
