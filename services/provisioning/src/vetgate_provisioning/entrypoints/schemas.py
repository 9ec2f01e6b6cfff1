"""The JSON bodies of the virtual-user and rotation API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from vetgate_provisioning.domain.virtual_users import VirtualUser


class PermissionGroup(BaseModel):
    name: str
    permissions: list[str]


class VirtualUserView(BaseModel):
    id: uuid.UUID
    provet_id: int
    name: str = Field(description="Integration <integration name>")
    group: PermissionGroup
    permissions: list[str] = Field(description="The rights it acts with (its group's)")
    active: bool
    client_id: str
    activation_id: uuid.UUID
    template_id: uuid.UUID

    @classmethod
    def of(cls, user: VirtualUser) -> VirtualUserView:
        return cls(
            id=user.id,
            provet_id=user.provet_id,
            name=user.name,
            group=PermissionGroup(name=user.group_name, permissions=list(user.permissions)),
            permissions=list(user.permissions),
            active=user.active,
            client_id=user.client_id,
            activation_id=user.activation_id,
            template_id=user.template_id,
        )


class VirtualUserList(BaseModel):
    virtual_users: list[VirtualUserView]


class VirtualUserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    permissions: list[str] | None = Field(default=None, description="The full new list of permission keys")
    active: bool | None = None


class RotationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: int | None = Field(
        default=None, description="How long the previous secret keeps working; the service default when omitted"
    )


class RotationAccepted(BaseModel):
    client_id: str
    previous_secret_valid_until: datetime
