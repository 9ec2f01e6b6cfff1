"""Everything a Vetgate resource server needs to accept this platform's tokens, built from two settings."""

from __future__ import annotations

from dataclasses import dataclass

from vetgate_authz.authorizer import Authorizer
from vetgate_authz.feed import RevocationFeed
from vetgate_authz.jwks import IssuerKeys
from vetgate_authz.revocations import RevocationList
from vetgate_authz.verify import TokenVerifier


@dataclass
class ResourceServer:
    authorizer: Authorizer
    feed: RevocationFeed
    """Run ``feed.run`` as a background task: it applies TokenRevoked to ``authorizer``."""

    @classmethod
    def for_platform(cls, token_base_url: str, kafka_bootstrap_servers: str) -> ResourceServer:
        revocations = RevocationList()
        verifier = TokenVerifier(token_bases=[token_base_url], keys=IssuerKeys())
        return cls(Authorizer(verifier, revocations), RevocationFeed(kafka_bootstrap_servers, revocations))
