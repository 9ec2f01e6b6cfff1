"""Why a request cannot be carried out; entrypoints map each to an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass


class ProvisioningError(Exception):
    """Base of the refusals below; ``code`` is the machine-readable ``error`` of the response."""

    code = "invalid_request"


class NotFound(ProvisioningError):
    code = "not_found"


class Conflict(ProvisioningError):
    """The request is valid, but the current state of the resource forbids it."""

    code = "conflict"


class ActivationRemoved(Conflict):
    code = "activation_deactivated"


class NoSecretToRotate(Conflict):
    code = "public_client_has_no_secret"


class VirtualUserDisabled(Conflict):
    code = "virtual_user_disabled"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class InvalidRequest(ProvisioningError):
    def __init__(self, description: str, fields: list[FieldError]) -> None:
        super().__init__(description)
        self.fields = fields
