"""Value types shared by several events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PROVET_ID = 2**31 - 1
"""Tenants are stored as PostgreSQL ``integer``: a larger id is no tenant, and must fail validation, not the query."""
ProvetId = Annotated[int, Field(gt=0, le=MAX_PROVET_ID, description="The tenant's numeric id")]
GrantType = Literal["client_credentials", "authorization_code"]
ClientType = Literal["confidential", "public"]


class SealedValue(BaseModel):
    """A secret sealed to one recipient's public key; only that recipient can open it.

    The associated data is the id of the event that first carried the value, so a sealed value
    cannot be lifted into another event.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    alg: str = Field(description="Sealing scheme, e.g. HPKE-X25519-SHA256-AES256GCM")
    recipient_key_id: str = Field(description="Which of the recipient's keys can open it")
    encapsulated_key: str = Field(description="base64url")
    ciphertext: str = Field(description="base64url")
    aad_event_id: str = Field(description="Event id bound as associated data")


class HookDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["hook_url"] = "hook_url"
    url: str
    signing_secrets: list[SealedValue] = Field(
        default_factory=list,
        description="The template's whsec_ secrets, sealed; two during a rotation overlap",
    )


class EmailDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["email"] = "email"
    address: str
    owner_name: str | None = Field(default=None, description="Who the mail greets")
    secret_in_body: bool = Field(
        default=False, description="Legacy parity: the secret in the mail instead of a reveal link"
    )


Delivery = Annotated[HookDelivery | EmailDelivery, Field(discriminator="kind")]
