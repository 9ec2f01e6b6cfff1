"""Integration templates: what support collects, and the rules a template must follow.

The rules live in the request model's validators so every violation is reported against the field
that breaks it (422 with a ``loc`` naming the field), for create and update alike.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator
from vetgate_events.common import ClientType, GrantType, ProvetId
from vetgate_events.permissions import USERS_GROUP_PERMISSIONS, unknown_permissions

Text = Annotated[str, Field(max_length=5000)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]


class TemplateState(StrEnum):
    SANDBOX = "sandbox"  # installable on its sandbox tenants only
    LIVE = "live"  # public in every tenant's catalogue
    UNLISTED = "unlisted"  # unpublished: no new installs outside the sandbox tenants; existing ones stay


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: EmailStr
    phone: Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9 ()./-]{3,40}$")] | None = None


class HookUrlDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["hook_url"]
    url: Annotated[str, Field(max_length=2000)]

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an absolute https:// URL")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials")
        if parts.fragment:
            raise ValueError("must not have a fragment")
        return url


class EmailAddressDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["email"]
    address: EmailStr
    secret_in_body: bool = Field(
        default=False, description="Legacy parity: the secret in the mail body instead of a one-time reveal link"
    )


DeliveryChoice = Annotated[HookUrlDelivery | EmailAddressDelivery, Field(discriminator="kind")]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str) -> str:
    """RFC 9700 §2.1 / RFC 8252: https, http on loopback for native apps, or a private-use (reverse-DNS)
    scheme; absolute and without a fragment (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ValueError(f"{uri!r} must not have a fragment")
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return uri
    if "." in parts.scheme and parts.scheme not in ("http", "https"):
        return uri
    raise ValueError(
        f"{uri!r} must be https, http on a loopback address, or a private-use scheme like com.example.app:/"
    )


class TemplateSpec(BaseModel):
    """Everything support collects for an integration template (ARCHITECTURE.md "Public contract")."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Text = ""
    owner: Owner
    grant_type: GrantType
    client_type: ClientType = "confidential"
    redirect_uris: list[Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=list, max_length=20, validate_default=True
    )
    delivery: DeliveryChoice
    permissions: list[str] = Field(
        default_factory=lambda: list(USERS_GROUP_PERMISSIONS),
        description="Permission keys (docs/permissions.md); default: the built-in Users group's rights",
    )
    sandbox_tenants: list[ProvetId] = Field(default_factory=list, max_length=100)
    setup_instructions: Text = ""

    @field_validator("client_type")
    @classmethod
    def _public_clients_need_a_user(cls, client_type: str, info: ValidationInfo) -> str:
        if client_type == "public" and info.data.get("grant_type") == "client_credentials":
            raise ValueError("a public client cannot use client_credentials (it has no secret to authenticate with)")
        return client_type

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris_fit_the_grant(cls, uris: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("grant_type") == "authorization_code" and not uris:
            raise ValueError("authorization_code needs at least one redirect URI")
        if info.data.get("grant_type") == "client_credentials" and uris:
            raise ValueError("client_credentials does not use redirect URIs")
        return [check_redirect_uri(uri) for uri in uris]

    @field_validator("permissions")
    @classmethod
    def _catalogued_permissions(cls, keys: list[str]) -> list[str]:
        unknown = unknown_permissions(keys)
        if unknown:
            raise ValueError(f"unknown permission keys {unknown} (see docs/permissions.md)")
        return sorted(set(keys))

    @field_validator("sandbox_tenants")
    @classmethod
    def _distinct_tenants(cls, tenants: list[int]) -> list[int]:
        return sorted(set(tenants))

    def installable_by(self, provet_id: int, state: TemplateState) -> bool:
        return state == TemplateState.LIVE or provet_id in self.sandbox_tenants


def hook_url_refusal(url: str, *, dev_mode: bool) -> str | None:
    """Why a hook URL is refused here (None: accepted). Outside the dev stack only https, and no
    loopback; the notifier checks every resolved address again at delivery time."""
    parts = urlsplit(url)
    if dev_mode:
        return None
    if parts.scheme != "https":
        return "must be an https:// URL"
    if parts.hostname and _loopback(parts.hostname):
        return "must not point at a loopback address"
    return None
