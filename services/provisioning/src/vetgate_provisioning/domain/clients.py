"""An OAuth client minted for one activation (one tenant's installation of one template)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vetgate_events.common import ClientType, EmailDelivery, GrantType, HookDelivery

from vetgate_provisioning.domain.credentials import has_secret
from vetgate_provisioning.domain.errors import ActivationRemoved, NoSecretToRotate


@dataclass(frozen=True)
class Client:
    client_id: str
    activation_id: uuid.UUID
    template_id: uuid.UUID
    provet_id: int
    integration_name: str
    grant_type: GrantType
    client_type: ClientType
    redirect_uris: tuple[str, ...]
    virtual_user_id: uuid.UUID | None
    delivery: HookDelivery | EmailDelivery
    """Where the activation's credentials go; it holds only sealed values, so it may rest here."""
    revoked: bool = False

    def check_rotatable(self) -> None:
        if self.revoked:
            raise ActivationRemoved("the application was removed from this tenant; add it again instead")
        if not has_secret(self.client_type):
            raise NoSecretToRotate("a public client has no client secret to rotate")
