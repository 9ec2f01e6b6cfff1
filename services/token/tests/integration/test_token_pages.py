"""The login and consent pages: headers, session cookie, CSRF, throttling, tenant isolation, the seed."""

from __future__ import annotations

import json
from pathlib import Path

from code_flows import PASSWORD, add_person, code_client, csrf_of, decide, log_in, params, pkce, redirected
from vetgate_devstack.infra import Infrastructure
from vetgate_token.adapters.people_store import PeopleStore
from vetgate_token.adapters.seed import register_seed

from conftest import TokenService


async def test_pages_cannot_be_framed_and_the_session_cookie_is_guarded(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    login = await token_service.http.get("/54321/oauth2/authorize/", params=params(client_id, pkce()[1]))
    assert login.status_code == 200
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"
    assert login.headers["cache-control"] == "no-store"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/54321/oauth2/" in cookie
    # Keyboard and screen-reader basics: labelled fields, focus on the first one, a real submit button.
    assert '<label for="username">' in login.text and '<label for="password">' in login.text
    assert 'id="username"' in login.text and "autofocus" in login.text
    assert '<button type="submit" name="action" value="login">' in login.text

    signed_in = await log_in(token_service.http, 54321, params(client_id, pkce()[1]))
    consent = await token_service.http.get(signed_in.headers["location"])
    assert "frame-ancestors 'none'" in consent.headers["content-security-policy"]
    assert "Clinic App" in consent.text and "restapi" in consent.text and "54321" in consent.text
    assert 'value="approve" autofocus' in consent.text and 'value="deny"' in consent.text


async def test_forms_without_the_sessions_csrf_token_are_refused(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    http = token_service.http
    page = await http.get("/54321/oauth2/authorize/", params=params(client_id, pkce()[1]))
    url = str(page.request.url)
    login = {"action": "login", "username": "vet", "password": PASSWORD}
    for csrf in (None, "forged-token"):
        data = login | ({"csrf_token": csrf} if csrf else {})
        refused = await http.post(url, data=data)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
    http.cookies.clear()  # a valid-looking token without the session it belongs to
    refused = await http.post(url, data=login | {"csrf_token": csrf_of(page)})
    assert refused.status_code == 403


async def test_failed_logins_are_throttled_with_retry_after(infra: Infrastructure, token_service: TokenService) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    query = params(client_id, pkce()[1])
    statuses = [(await log_in(token_service.http, 54321, query, password="guess")).status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = await log_in(token_service.http, 54321, query, password="guess")
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    right = await log_in(token_service.http, 54321, query)
    assert right.status_code == 429, "even the right password waits out the window"


async def test_a_person_of_one_tenant_cannot_log_in_at_another(
    infra: Infrastructure, token_service: TokenService
) -> None:
    await add_person(token_service, provet_id=54321)
    client_id, _ = await code_client(infra, provet_id=11111)
    query = params(client_id, pkce()[1])
    refused = await log_in(token_service.http, 11111, query)
    assert refused.status_code == 401 and "Wrong username or password" in refused.text
    assert "set-cookie" not in refused.headers or "54321" not in refused.headers["set-cookie"]


async def test_seeded_users_log_in_with_their_dev_credentials(
    infra: Infrastructure, token_service: TokenService, tmp_path: Path
) -> None:
    seed = {
        "support": {"client_id": "support-x", "client_secret": "s" * 43, "provet_id": 54321},
        "tenants": [
            {
                "provet_id": 54321,
                "admin": {"client_id": "admin-x", "client_secret": "a" * 43},
                "users": [{"username": "vet54321", "password": "seeded-password"}],
            }
        ],
    }
    path = tmp_path / "dev-credentials.json"
    path.write_text(json.dumps(seed))
    host, oauth = token_service.host, token_service.host.components["oauth"]
    for _ in range(2):  # a restart changes nothing
        counts = await register_seed(
            path, oauth.store, PeopleStore(), host.engine, token_service.settings.pepper_bytes()
        )
        assert counts == (2, 1)
    client_id, _ = await code_client(infra)
    query = params(client_id, pkce()[1])
    assert (
        await log_in(token_service.http, 54321, query, username="vet54321", password="seeded-password")
    ).status_code == 303


async def test_the_approved_redirect_carries_the_code_once_per_approval(
    infra: Infrastructure, token_service: TokenService
) -> None:
    client_id, _ = await code_client(infra)
    await add_person(token_service)
    first = redirected(await decide(token_service.http, 54321, params(client_id, pkce()[1])))
    second = redirected(await decide(token_service.http, 54321, params(client_id, pkce()[1])))
    assert first["code"] != second["code"] and len(first["code"]) >= 43
