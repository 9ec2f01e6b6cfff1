"""Composition root of the token service: everything is wired here, by hand."""

import asyncio
import hashlib
import hmac
import os
from datetime import timedelta
from pathlib import Path

from vetgate_authz.fastapi import install_auth_errors
from vetgate_messaging.host import ServiceHost
from vetgate_platform.logs import get_logger
from vetgate_platform.secrets import matches

from vetgate_token.adapters.client_store import ClientStore
from vetgate_token.adapters.keys import KeyRing
from vetgate_token.adapters.people_store import PeopleStore
from vetgate_token.adapters.seed import register_seed
from vetgate_token.config import TokenSettings
from vetgate_token.entrypoints import api_keys_api, authorize, discovery, oauth, userinfo
from vetgate_token.entrypoints.components import OAuthComponents
from vetgate_token.entrypoints.pages import Sessions
from vetgate_token.service_layer.access_tokens import Introspection
from vetgate_token.service_layer.api_keys import ApiKeys
from vetgate_token.service_layer.authorization_server import VetgateAuthorizationServer
from vetgate_token.service_layer.key_retirement import KeyRetirement
from vetgate_token.service_layer.key_usage import UsageBuffer
from vetgate_token.service_layer.person_tokens import PersonTokens
from vetgate_token.service_layer.registry import RegistryHandlers
from vetgate_token.service_layer.revocation_cache import RevocationCache
from vetgate_token.service_layer.throttle import FailureThrottle

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"
log = get_logger(__name__)


def bootstrap(settings: TokenSettings | None = None) -> ServiceHost:
    settings = settings or TokenSettings()
    _require_https(settings)
    host = ServiceHost(settings, MIGRATIONS)
    pepper = settings.pepper_bytes()
    ttl = timedelta(seconds=settings.access_token_ttl)
    keys = KeyRing(settings.key_encryption_key_bytes(), ttl)
    store = ClientStore(host.engine, lambda presented, stored: matches(pepper, presented, stored))
    server = VetgateAuthorizationServer(keys, settings.base_url, settings.access_token_ttl)
    people = PeopleStore()
    revocations = RevocationCache()
    key_usage = UsageBuffer(host.engine, settings.api_key_usage_flush_interval)
    retirement = KeyRetirement(host.engine, settings.api_key_check_interval)
    session_key = hmac.new(pepper, b"vetgate-token:authorize-sessions", hashlib.sha256).digest()
    components = OAuthComponents(
        engine=host.engine,
        store=store,
        keys=keys,
        server=server,
        throttle=FailureThrottle(),
        introspection=Introspection(settings.base_url, host.engine, revocations),
        base_url=settings.base_url,
        people=people,
        person_tokens=PersonTokens(host.engine, server, people, revocations),
        sessions=Sessions(session_key, secure=settings.base_url.startswith("https://")),
        # People's passwords are guessable, unlike client secrets: fewer tries per window.
        login_throttle=FailureThrottle(limit=5, window=300),
        api_keys=ApiKeys(host.engine, pepper),
        key_usage=key_usage,
    )
    host.components["oauth"] = components
    RegistryHandlers(store, pepper, settings.base_url, settings.access_token_ttl, revocations).register(host.consumer)
    host.hot_routes += oauth.oauth_routes(components)
    host.routers += [
        authorize.build_router(components),
        userinfo.build_router(components),
        discovery.build_router(components),
        api_keys_api.build_router(components, retirement),
    ]
    host.components["api_key_retirement"] = retirement
    host.app_setup.append(install_auth_errors)

    rotate_after = timedelta(days=settings.key_rotation_days)

    async def keep_keys_current() -> None:
        async with host.engine.begin() as conn:
            if await keys.ensure_current(conn, rotate_after):
                log.info("new signing key created")
            await keys.load(conn)

    async def refresh_keys_forever() -> None:
        while True:  # another replica may have rotated; retired keys leave the JWKS when due
            await asyncio.sleep(60)
            await keep_keys_current()

    async def seed_dev_identities() -> None:
        if settings.seed_file is not None and settings.seed_file.exists():
            clients, persons = await register_seed(settings.seed_file, store, people, host.engine, pepper)
            log.info("dev identities registered", clients=clients, people=persons)

    host.startup += [keep_keys_current, seed_dev_identities]
    host.background += [refresh_keys_forever, retirement.run, key_usage.run]
    return host


def _require_https(settings: TokenSettings) -> None:
    """RFC 6749 §3.1: OAuth needs TLS. Only the dev stack (loopback, VETGATE_DEV=1) may use plain http."""
    if settings.base_url.startswith("https://"):
        return
    if not settings.dev_mode:
        raise ValueError("VETGATE_TOKEN_PUBLIC_BASE_URL must be an https:// URL outside the dev stack")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # Authlib's own switch for the same rule
