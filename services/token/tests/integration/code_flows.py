"""Driving the authorization_code flow as a browser and an integration do: pages, forms, redirects."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
from flows import basic, publish
from vetgate_devstack.infra import Infrastructure
from vetgate_events.common import ClientType
from vetgate_messaging import testing
from vetgate_token.adapters.people_store import PeopleStore
from vetgate_token.domain.grants import Person, person_id_for

from conftest import BASE_URL, TokenService

REDIRECT = "https://app.example/callback"
PASSWORD = "correct horse battery staple"
PERMISSIONS = ("patients-clients", "consultations")


async def code_client(
    infra: Infrastructure, provet_id: int = 54321, client_type: ClientType = "public"
) -> tuple[str, str | None]:
    """A registered authorization_code integration (public, or confidential with a secret)."""
    event, secret = testing.client_provisioned(
        provet_id,
        grant_type="authorization_code",
        client_type=client_type,
        name="Clinic App",
        redirect_uris=[REDIRECT],
    )
    await publish(infra.kafka_bootstrap, event)
    await testing.credentials_issued(infra.kafka_bootstrap, event.client_id, token_base=BASE_URL)
    return event.client_id, secret


async def add_person(svc: TokenService, provet_id: int = 54321, username: str = "vet") -> str:
    person = Person(person_id_for(provet_id, username), provet_id, username, PERMISSIONS, active=True)
    async with svc.host.engine.begin() as conn:
        await PeopleStore().upsert(conn, person, PASSWORD)
    return person.person_id


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def params(client_id: str, challenge: str | None, **extra: str) -> dict[str, str]:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "st-123"}
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return query | extra


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def redirected(response: httpx.Response) -> dict[str, str]:
    """The query of a redirect to the client's redirect_uri."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def log_in(
    http: httpx.AsyncClient, provet_id: int, query: dict[str, str], username: str = "vet", password: str = PASSWORD
) -> httpx.Response:
    page = await http.get(f"/{provet_id}/oauth2/authorize/", params=query)
    assert page.status_code == 200, page.text
    return await http.post(
        str(page.request.url),
        data={"csrf_token": csrf_of(page), "action": "login", "username": username, "password": password},
    )


async def decide(
    http: httpx.AsyncClient, provet_id: int, query: dict[str, str], action: str = "approve"
) -> httpx.Response:
    """Log in (if needed) and answer the consent page; returns the redirect back to the client."""
    login = await log_in(http, provet_id, query)
    assert login.status_code == 303, login.text
    consent = await http.get(login.headers["location"])
    assert consent.status_code == 200 and "Approve" in consent.text, consent.text
    return await http.post(str(consent.request.url), data={"csrf_token": csrf_of(consent), "action": action})


async def exchange(
    http: httpx.AsyncClient,
    provet_id: int,
    client_id: str,
    code: str,
    verifier: str | None,
    secret: str | None = None,
) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier:
        form["code_verifier"] = verifier
    if secret is None:
        form["client_id"] = client_id  # RFC 6749 §4.1.3: a public client names itself
        return await http.post(f"/{provet_id}/oauth2/token/", data=form)
    return await http.post(f"/{provet_id}/oauth2/token/", data=form, headers=basic(client_id, secret))


async def tokens_for(svc: TokenService, infra: Infrastructure, **extra: str) -> tuple[str, dict[str, str]]:
    """A public client and the token response of a complete flow (PKCE, approved)."""
    client_id, _ = await code_client(infra)
    await add_person(svc)
    verifier, challenge = pkce()
    code = redirected(await decide(svc.http, 54321, params(client_id, challenge, **extra)))["code"]
    response = await exchange(svc.http, 54321, client_id, code, verifier)
    assert response.status_code == 200, response.text
    return client_id, response.json()


async def refresh(http: httpx.AsyncClient, client_id: str, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return await http.post("/54321/oauth2/token/", data=form)
