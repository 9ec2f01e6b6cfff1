"""The token service's own rules, without I/O: scopes, secrets, grant types, claims, throttling."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from vetgate_platform.secrets import matches, peppered, secret_digest
from vetgate_token.domain.claims import access_token_claims, issuer
from vetgate_token.domain.clients import RegisteredClient, StoredSecret, grant_types_for
from vetgate_token.service_layer.throttle import FailureThrottle

PEPPER = b"p" * 32


def client(**overrides: object) -> RegisteredClient:
    base = RegisteredClient(
        client_id="c1",
        provet_id=7,
        name="Integration X",
        client_type="confidential",
        grant_types=("client_credentials",),
        redirect_uris=(),
        subject="vu-1",
        permissions=("reminder",),
        roles=(),
        active=True,
        secrets=(StoredSecret(peppered(PEPPER, secret_digest("right"))),),
        secret_check=lambda presented, stored: matches(PEPPER, presented, stored),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_scope_defaults_to_restapi_and_openid_needs_authorization_code() -> None:
    assert client().get_allowed_scope(None) == "restapi"
    assert client().get_allowed_scope("openid restapi admin") == "restapi", "unknown and openid dropped"
    code_client = client(grant_types=grant_types_for("authorization_code"))
    assert code_client.get_allowed_scope("openid restapi") == "openid restapi"


def test_secret_checks_respect_rotation_windows_and_client_state() -> None:
    assert client().check_client_secret("right")
    assert not client().check_client_secret("wrong")
    expired = StoredSecret(peppered(PEPPER, secret_digest("old")), datetime.now(UTC) - timedelta(seconds=1))
    overlapping = StoredSecret(peppered(PEPPER, secret_digest("old")), datetime.now(UTC) + timedelta(hours=1))
    assert not client(secrets=(expired,)).check_client_secret("old"), "the overlap window has ended"
    assert client(secrets=(overlapping,)).check_client_secret("old"), "still inside the overlap window"
    assert not client(active=False).check_client_secret("right")


def test_grant_types_and_auth_methods() -> None:
    assert client().check_grant_type("client_credentials")
    assert not client().check_grant_type("refresh_token"), "client_credentials gets no refresh token"
    code_client = client(grant_types=grant_types_for("authorization_code"))
    assert code_client.check_grant_type("refresh_token") and code_client.check_response_type("code")
    public = client(client_type="public")
    assert public.check_endpoint_auth_method("none", "token")
    assert not public.check_endpoint_auth_method("client_secret_basic", "token")
    assert not client().check_endpoint_auth_method("none", "token"), "confidential clients must authenticate"
    assert not client(active=False).check_grant_type("client_credentials")


def test_redirect_uris_match_exactly() -> None:
    app = client(redirect_uris=("https://app.example/cb",))
    assert app.check_redirect_uri("https://app.example/cb")
    assert not app.check_redirect_uri("https://app.example/cb/")
    assert not app.check_redirect_uri("https://app.example/cb?x=1")


def test_access_token_claims_follow_decision_0006() -> None:
    claims = access_token_claims(
        base_url="https://auth.example/",
        provet_id=7,
        subject="vu-1",
        client_id="c1",
        scope="restapi",
        permissions=("reminder",),
        roles=(),
        issued_at=1_000_001,
        not_before=1_000_000,
        lifetime=36_000,
    )
    assert claims["iss"] == issuer("https://auth.example", 7) == "https://auth.example/7/oauth2"
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (1_000_001, 1_000_000, 1_036_000)
    assert claims["aud"] == "vetgate" and claims["permissions"] == ["reminder"] and len(claims["jti"]) == 36


def test_throttle_blocks_after_the_limit_and_forgets_after_the_window() -> None:
    throttle = FailureThrottle(limit=3, window=0.2)
    keys = ["client:c1", "source:127.0.0.1"]
    for _ in range(3):
        assert throttle.retry_after(keys) is None
        throttle.failed(keys)
    wait = throttle.retry_after(keys)
    assert wait is not None and wait >= 1
    assert throttle.retry_after(["client:someone-else"]) is None
    time.sleep(0.25)
    assert throttle.retry_after(keys) is None
