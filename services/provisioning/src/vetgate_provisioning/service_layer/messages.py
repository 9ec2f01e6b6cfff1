"""The events provisioning emits, built from its own state."""

from __future__ import annotations

from datetime import UTC, datetime

from vetgate_events.common import SealedValue
from vetgate_events.provisioning import ClientProvisioned, ClientRevoked, VirtualUserChanged

from vetgate_provisioning.domain.clients import Client
from vetgate_provisioning.domain.virtual_users import VirtualUser


def client_provisioned(
    client: Client,
    virtual_user: VirtualUser | None,
    *,
    secret_hash: str | None,
    sealed_secret: SealedValue | None,
    previous_secret_valid_until: datetime | None = None,
) -> ClientProvisioned:
    return ClientProvisioned(
        client_id=client.client_id,
        activation_id=client.activation_id,
        template_id=client.template_id,
        provet_id=client.provet_id,
        integration_name=client.integration_name,
        grant_type=client.grant_type,
        client_type=client.client_type,
        redirect_uris=list(client.redirect_uris),
        virtual_user_id=virtual_user.id if virtual_user else None,
        # The token service copies these into every access token, so they must be the current rights.
        permissions=list(virtual_user.permissions) if virtual_user else [],
        secret_hash=secret_hash,
        sealed_secret=sealed_secret,
        previous_secret_valid_until=previous_secret_valid_until,
        delivery=client.delivery,
        provisioned_at=datetime.now(UTC),
    )


def client_revoked(client: Client, reason: str) -> ClientRevoked:
    return ClientRevoked(
        client_id=client.client_id,
        activation_id=client.activation_id,
        provet_id=client.provet_id,
        reason=reason,
        revoked_at=datetime.now(UTC),
    )


def virtual_user_changed(user: VirtualUser) -> VirtualUserChanged:
    return VirtualUserChanged(
        virtual_user_id=user.id,
        client_id=user.client_id,
        provet_id=user.provet_id,
        username=user.name,
        permissions=list(user.permissions),
        active=user.active,
        changed_at=datetime.now(UTC),
    )
