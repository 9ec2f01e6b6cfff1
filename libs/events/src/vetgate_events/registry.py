"""Every integration event, by its CloudEvents type."""

from __future__ import annotations

from typing import Final

from vetgate_events.base import IntegrationEvent
from vetgate_events.catalogue import (
    IntegrationActivated,
    IntegrationDeactivated,
    IntegrationPublished,
    TemplatePermissionsChanged,
)
from vetgate_events.notifier import CredentialsDelivered, CredentialsDeliveryFailed
from vetgate_events.provisioning import ClientProvisioned, ClientRevoked, VirtualUserChanged
from vetgate_events.token import (
    ApiKeyCreated,
    ClientDisabled,
    CredentialsIssued,
    KeyRevocationReminder,
    KeyRevoked,
    TokenRevoked,
)

ALL_EVENTS: Final[tuple[type[IntegrationEvent], ...]] = (
    IntegrationPublished,
    IntegrationActivated,
    IntegrationDeactivated,
    TemplatePermissionsChanged,
    ClientProvisioned,
    ClientRevoked,
    VirtualUserChanged,
    CredentialsIssued,
    TokenRevoked,
    ClientDisabled,
    ApiKeyCreated,
    KeyRevoked,
    KeyRevocationReminder,
    CredentialsDelivered,
    CredentialsDeliveryFailed,
)

EVENTS_BY_TYPE: Final[dict[str, type[IntegrationEvent]]] = {e.event_type(): e for e in ALL_EVENTS}


def event_class(event_type: str) -> type[IntegrationEvent] | None:
    return EVENTS_BY_TYPE.get(event_type)
