"""Vetgate's resource-server library: verify access tokens offline, honour revocations, accept legacy API keys.

FastAPI glue lives in :mod:`vetgate_authz.fastapi` (``bearer_auth``, ``install_auth_errors``).
"""

from vetgate_authz.authorizer import Authorizer
from vetgate_authz.errors import AuthUnavailable, Forbidden, InvalidToken, MissingCredentials
from vetgate_authz.feed import RevocationFeed
from vetgate_authz.introspection import IntrospectionClient
from vetgate_authz.jwks import IssuerKeys, JwksCache, jwks_url
from vetgate_authz.model import AccessToken, TokenType
from vetgate_authz.resource_server import ResourceServer
from vetgate_authz.revocations import RevocationList
from vetgate_authz.verify import TokenVerifier

__all__ = [
    "AccessToken",
    "AuthUnavailable",
    "Authorizer",
    "Forbidden",
    "IntrospectionClient",
    "InvalidToken",
    "IssuerKeys",
    "JwksCache",
    "MissingCredentials",
    "ResourceServer",
    "RevocationFeed",
    "RevocationList",
    "TokenType",
    "TokenVerifier",
    "jwks_url",
]
