"""Vetgate's resource-server library: verify access tokens offline, honour revocations, accept legacy API keys.

FastAPI glue lives in :mod:`vetgate_authz.fastapi` (``bearer_auth``, ``install_auth_errors``).
"""

from vetgate_authz.api_key_revocations import RevokedApiKeys
from vetgate_authz.authorizer import Authorizer
from vetgate_authz.client_credentials import ClientCredentials, ClientCredentialsAuth, client_basic_auth
from vetgate_authz.errors import AuthUnavailable, Forbidden, InvalidToken, MissingCredentials
from vetgate_authz.feed import RevocationFeed
from vetgate_authz.introspection import IntrospectionClient
from vetgate_authz.jwks import IssuerKeys, JwksCache, jwks_url
from vetgate_authz.model import AccessToken, TokenType
from vetgate_authz.resource_server import ResourceServer
from vetgate_authz.revocations import RevocationList
from vetgate_authz.usage import KeyUses, UsageMeter, UsageReporter
from vetgate_authz.verify import TokenVerifier

__all__ = [
    "AccessToken",
    "AuthUnavailable",
    "Authorizer",
    "ClientCredentials",
    "ClientCredentialsAuth",
    "Forbidden",
    "IntrospectionClient",
    "InvalidToken",
    "IssuerKeys",
    "JwksCache",
    "KeyUses",
    "MissingCredentials",
    "ResourceServer",
    "RevocationFeed",
    "RevocationList",
    "RevokedApiKeys",
    "TokenType",
    "TokenVerifier",
    "UsageMeter",
    "UsageReporter",
    "client_basic_auth",
    "jwks_url",
]
