"""Everything a Vetgate resource server needs to accept this platform's tokens, built from its settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from vetgate_platform.settings import ServiceSettings

from vetgate_authz.api_key_revocations import RevokedApiKeys
from vetgate_authz.authorizer import Authorizer
from vetgate_authz.client_credentials import ClientCredentials, ClientCredentialsAuth
from vetgate_authz.feed import RevocationFeed
from vetgate_authz.introspection import IntrospectionClient
from vetgate_authz.jwks import IssuerKeys
from vetgate_authz.revocations import RevocationList
from vetgate_authz.usage import UsageMeter, UsageReporter
from vetgate_authz.verify import TokenVerifier


@dataclass
class ResourceServer:
    authorizer: Authorizer
    feed: RevocationFeed
    """Applies TokenRevoked (and, with API keys, KeyRevoked) to ``authorizer``."""
    usage: UsageReporter | None = None
    """Reports API-key uses answered from the cache; None when API keys are refused."""
    owned: list[httpx.AsyncClient] = field(default_factory=list)
    """HTTP clients made here, closed by :meth:`aclose`."""

    def background(self) -> list[Callable[[], Awaitable[None]]]:
        """The loops to run beside the app for as long as it serves (e.g. ``ServiceHost.background``)."""
        jobs: list[Callable[[], Awaitable[None]]] = [self.feed.run]
        if self.usage is not None:
            jobs.append(self.usage.run)
        return jobs

    async def aclose(self) -> None:
        """Close the HTTP connections (JWKS, introspection); for tools and tests — a service's end closes them."""
        for http in self.owned:
            await http.aclose()

    @classmethod
    def for_platform(
        cls,
        token_base_url: str,
        kafka_bootstrap_servers: str,
        *,
        introspection: ClientCredentials | None = None,
        usage_report_interval: float = 5.0,
        http: httpx.AsyncClient | None = None,
    ) -> ResourceServer:
        """Bearer tokens of ``<token_base_url>/<provet_id>/oauth2``; legacy API keys too when ``introspection``
        names the support client (introspection at every tenant needs it). Without it keys are refused."""
        token_base_url = token_base_url.rstrip("/")
        owned = [] if http is not None else [httpx.AsyncClient(timeout=5.0)]
        http = http or owned[0]
        revocations = RevocationList()
        verifier = TokenVerifier(token_bases=[token_base_url], keys=IssuerKeys(http=http))
        if introspection is None:
            feed = RevocationFeed(kafka_bootstrap_servers, revocations)
            return cls(Authorizer(verifier, revocations), feed, owned=owned)
        auth = ClientCredentialsAuth(introspection, http=http)
        revoked, meter = RevokedApiKeys(), UsageMeter()
        keys = IntrospectionClient(token_base=token_base_url, auth=auth, http=http, revoked=revoked, usage=meter)
        usage = UsageReporter(
            meter, url=f"{token_base_url}/v1/api-keys/usage", auth=auth, http=http, interval=usage_report_interval
        )
        feed = RevocationFeed(kafka_bootstrap_servers, revocations, api_keys=revoked)
        return cls(Authorizer(verifier, revocations, keys), feed, usage, owned)

    @classmethod
    def for_settings(cls, settings: ServiceSettings) -> ResourceServer:
        """:meth:`for_platform` from the settings every service shares (``VETGATE_INTROSPECTION_*``)."""
        url, client_id = settings.introspection_token_url, settings.introspection_client_id
        secret = settings.introspection_client_secret
        introspection = ClientCredentials(url, client_id, secret) if url and client_id and secret else None
        return cls.for_platform(
            settings.token_base_url,
            settings.kafka_bootstrap_servers,
            introspection=introspection,
            usage_report_interval=settings.api_key_usage_interval,
        )
