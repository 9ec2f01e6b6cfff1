"""Every grant through the running stack, with independent clients: Authlib's OAuth client, joserfc,
and a real headless Chromium (Debian's) for login and consent, driven by keyboard only."""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.async_api import async_playwright, expect
from stack_helpers import BROWSER_ARGS, RunningStack
from vetgate_devstack.infra import free_port
from vetgate_messaging.testing import client_provisioned, credentials_issued, publish

OIDC_REQUIRED = {
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
}


@pytest.fixture(scope="module")
def callback() -> Iterator[str]:
    """A real HTTP receiver on loopback standing in for the integration's redirect URI."""

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"signed in")

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()


async def register_code_client(stack: RunningStack, redirect_uri: str, provet_id: int) -> str:
    """A public authorization_code integration, provisioned the way provisioning does it (an event)."""
    event, _ = client_provisioned(
        provet_id,
        grant_type="authorization_code",
        client_type="public",
        name="Vet Portal",
        redirect_uris=[redirect_uri],
    )
    await publish(stack.kafka, event, source="/vetgate/provisioning")
    await credentials_issued(stack.kafka, event.client_id)
    return event.client_id


def tenant(stack: RunningStack, index: int = 0) -> dict[str, Any]:
    return stack.credentials["tenants"][index]  # type: ignore[no-any-return]


def oauth_base(stack: RunningStack, provet_id: int) -> str:
    return f"{stack.urls['token']}/{provet_id}/oauth2"


def test_discovery_metadata_meets_rfc8414_and_openid_discovery(stack: RunningStack) -> None:
    provet_id = tenant(stack)["provet_id"]
    oidc = httpx.get(f"{oauth_base(stack, provet_id)}/.well-known/openid-configuration").json()
    rfc8414 = httpx.get(f"{stack.urls['token']}/.well-known/oauth-authorization-server/{provet_id}/oauth2").json()
    assert OIDC_REQUIRED <= set(oidc), OIDC_REQUIRED - set(oidc)
    # RFC 8414 §3.3: the issuer is exactly the one the well-known URL was built from.
    assert oidc["issuer"] == rfc8414["issuer"] == oauth_base(stack, provet_id)
    assert (
        "S256" in oidc["code_challenge_methods_supported"] and "plain" not in oidc["code_challenge_methods_supported"]
    )
    assert {"authorization_code", "client_credentials", "refresh_token"} <= set(oidc["grant_types_supported"])
    assert httpx.get(oidc["jwks_uri"]).json()["keys"]


def test_client_credentials_tokens_are_rfc9068_jwts(stack: RunningStack) -> None:
    admin = tenant(stack)["admin"]
    with OAuth2Session(admin["client_id"], admin["client_secret"]) as session:
        token = session.fetch_token(admin["token_url"], grant_type="client_credentials")
    assert "refresh_token" not in token
    base = oauth_base(stack, tenant(stack)["provet_id"])
    decoded = jwt.decode(
        token["access_token"], KeySet.import_key_set(httpx.get(f"{base}/jwks/").json()), algorithms=["ES256"]
    )
    assert decoded.header["typ"] == "at+jwt" and "kid" in decoded.header  # RFC 9068 §2.1
    claims = decoded.claims
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} <= set(claims)  # RFC 9068 §2.2
    assert claims["iss"] == base and claims["exp"] - claims["nbf"] == 36_000


def test_introspection_revocation_and_tenant_isolation(stack: RunningStack) -> None:
    a, b = tenant(stack, 0), tenant(stack, 1)
    a_auth = (a["admin"]["client_id"], a["admin"]["client_secret"])
    b_auth = (b["admin"]["client_id"], b["admin"]["client_secret"])
    token = httpx.post(a["admin"]["token_url"], data={"grant_type": "client_credentials"}, auth=a_auth).json()
    a_base, b_base = oauth_base(stack, a["provet_id"]), oauth_base(stack, b["provet_id"])

    assert httpx.post(f"{a_base}/introspect/", data={"token": token["access_token"]}).status_code == 401
    assert httpx.post(f"{a_base}/introspect/", data={"token": token["access_token"]}, auth=a_auth).json()["active"]
    assert httpx.post(f"{b_base}/introspect/", data={"token": token["access_token"]}, auth=b_auth).json() == {
        "active": False
    }, "a token of tenant A is useless at tenant B"
    assert httpx.post(f"{b_base}/token/", data={"grant_type": "client_credentials"}, auth=a_auth).status_code == 401

    assert httpx.post(f"{a_base}/revoke_token/", data={"token": token["access_token"]}, auth=a_auth).status_code == 200
    assert httpx.post(f"{a_base}/introspect/", data={"token": token["access_token"]}, auth=a_auth).json() == {
        "active": False
    }


async def test_authorization_code_with_pkce_in_a_real_browser(stack: RunningStack, callback: str) -> None:
    person = tenant(stack)["users"][0]
    provet_id = tenant(stack)["provet_id"]
    base = oauth_base(stack, provet_id)
    client_id = await register_code_client(stack, callback, provet_id)
    verifier = secrets.token_urlsafe(48)
    session = OAuth2Session(
        client_id,
        redirect_uri=callback,
        scope="openid restapi",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    url, state = session.create_authorization_url(f"{base}/authorize/", code_verifier=verifier, nonce="n-0S6")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            page = await browser.new_page()
            login = await page.goto(url)
            assert (
                login is not None and "frame-ancestors 'none'" in (await login.all_headers())["content-security-policy"]
            )
            # Chromium applies autofocus at its next rendering step, which can come after the load event:
            # typing before then loses keystrokes, so wait for the focus the page promises.
            await expect(page.locator("#username")).to_be_focused(timeout=30_000)
            await page.keyboard.type(person["username"])
            await page.keyboard.press("Tab")
            await page.keyboard.type(person["password"])
            await page.keyboard.press("Enter")
            try:
                await expect(page.get_by_role("button", name="Approve")).to_be_focused(timeout=30_000)
            except AssertionError as exc:  # say what the browser shows instead (a login error, a 429, ...)
                raise AssertionError(f"no consent page after login: {await page.inner_text('body')!r}") from exc
            async with page.expect_navigation(url=lambda u: u.startswith(callback)):
                await page.keyboard.press("Enter")
            redirected = page.url
        finally:
            await browser.close()

    assert f"state={state}" in redirected, "state round-trips"
    tokens = session.fetch_token(f"{base}/token/", authorization_response=redirected, code_verifier=verifier)
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
    jwks = KeySet.import_key_set(httpx.get(f"{base}/jwks/").json())
    id_token = jwt.decode(tokens["id_token"], jwks, algorithms=["ES256"]).claims
    assert id_token["aud"] == client_id and id_token["nonce"] == "n-0S6" and id_token["iss"] == base
    info = httpx.get(f"{base}/userinfo/", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert info["sub"] == id_token["sub"] and info["preferred_username"] == person["username"]

    rotated = session.refresh_token(f"{base}/token/", refresh_token=tokens["refresh_token"])
    assert rotated["refresh_token"] != tokens["refresh_token"], "rotated on every use"
    reuse = httpx.post(
        f"{base}/token/",
        data={"grant_type": "refresh_token", "client_id": client_id, "refresh_token": tokens["refresh_token"]},
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    after_reuse = httpx.post(
        f"{base}/token/",
        data={"grant_type": "refresh_token", "client_id": client_id, "refresh_token": rotated["refresh_token"]},
    )
    assert after_reuse.status_code == 400, "reuse of a rotated token revokes the whole family (RFC 9700)"

    assert person["password"] not in stack.logs()
    assert tokens["refresh_token"] not in stack.logs()


async def test_pkce_downgrade_and_foreign_redirects_are_refused(stack: RunningStack, callback: str) -> None:
    provet_id = tenant(stack)["provet_id"]
    base = oauth_base(stack, provet_id)
    client_id = await register_code_client(stack, callback, provet_id)
    common = {"response_type": "code", "client_id": client_id, "state": "s1", "scope": "restapi"}
    plain = httpx.get(
        f"{base}/authorize/",
        params={**common, "redirect_uri": callback, "code_challenge": "x" * 43, "code_challenge_method": "plain"},
    )
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]
    missing = httpx.get(f"{base}/authorize/", params={**common, "redirect_uri": callback})
    assert missing.status_code == 302 and "error=invalid_request" in missing.headers["location"], (
        "PKCE is mandatory for public clients"
    )
    foreign = httpx.get(
        f"{base}/authorize/",
        params={
            **common,
            "redirect_uri": "http://127.0.0.2/steal",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert foreign.status_code == 400 and "location" not in foreign.headers, "never redirect to an unregistered URI"


def test_no_secret_of_the_seed_appears_in_any_log(stack: RunningStack) -> None:
    creds = stack.credentials
    secrets_ = [creds["support"]["client_secret"]]
    secrets_ += [t["admin"]["client_secret"] for t in creds["tenants"]]
    secrets_ += [u["password"] for t in creds["tenants"] for u in t["users"]]
    logs = stack.logs()
    assert "token issued" in logs
    assert [s for s in secrets_ if s in logs] == []
