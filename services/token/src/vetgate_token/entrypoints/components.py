"""What the token service's routes work with, built once in bootstrap.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy.ext.asyncio import AsyncEngine

from vetgate_token.adapters.client_store import ClientStore
from vetgate_token.adapters.keys import KeyRing
from vetgate_token.adapters.people_store import PeopleStore
from vetgate_token.domain.clients import RegisteredClient
from vetgate_token.entrypoints.pages import Sessions
from vetgate_token.service_layer.access_tokens import Introspection
from vetgate_token.service_layer.api_keys import ApiKeys
from vetgate_token.service_layer.authorization_server import VetgateAuthorizationServer
from vetgate_token.service_layer.key_usage import UsageBuffer
from vetgate_token.service_layer.person_tokens import PersonTokens
from vetgate_token.service_layer.throttle import FailureThrottle


@dataclass
class OAuthComponents:
    engine: AsyncEngine
    store: ClientStore
    keys: KeyRing
    server: VetgateAuthorizationServer
    throttle: FailureThrottle
    introspection: Introspection
    base_url: str
    people: PeopleStore
    person_tokens: PersonTokens
    sessions: Sessions
    login_throttle: FailureThrottle
    api_keys: ApiKeys
    key_usage: UsageBuffer

    async def client_of_tenant(self, client_id: str | None, provet_id: int) -> RegisteredClient | None:
        """The client, if it exists at this tenant: another tenant's client is unknown here."""
        if not client_id:
            return None
        client = await self.store.get(client_id)
        return client if client is not None and client.provet_id == provet_id else None

    async def authenticate(
        self, headers: Mapping[str, str], form: Mapping[str, str], provet_id: int
    ) -> RegisteredClient | None:
        """A confidential client of this tenant proving its secret (Basic, or body parameters)."""
        client_id, secret = extract_basic_authorization(headers)
        if client_id is None:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        client = await self.client_of_tenant(client_id, provet_id)
        if client is None or client.is_public or not secret or not client.check_client_secret(secret):
            return None
        return client


def claimed_client_id(headers: Mapping[str, str], form: Mapping[str, str]) -> str | None:
    """The client_id the request claims, by HTTP Basic or in the body.

    Raises ValueError for a request that authenticates both ways or names two clients: RFC 6749 §5.2 makes
    "more than one mechanism for authenticating the client" and "multiple credentials" invalid_request."""
    basic_id: str | None = extract_basic_authorization(headers)[0]
    if basic_id is None:
        return form.get("client_id")
    if "client_secret" in form or form.get("client_id", basic_id) != basic_id:
        raise ValueError("more than one client authentication")
    return basic_id
