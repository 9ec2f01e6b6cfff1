"""Every service through the running stack: a client's mistake gets a 4xx that says what is wrong, never a
500, and the service keeps answering."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterator

import httpx
from stack_helpers import RunningStack
from vetgate_devstack.token_server import client_credentials_token

FORM = "application/x-www-form-urlencoded"
NO_TENANT = 2**31  # one past what PostgreSQL's integer holds: numeric, but no tenant can have it


def test_bodies_over_a_mebibyte_are_refused_before_they_are_read(stack: RunningStack) -> None:
    admin = stack.credentials["tenants"][0]["admin"]
    huge = b"grant_type=client_credentials&pad=" + b"x" * (1 << 21)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while the body arrives
        yield from (huge[i : i + 65536] for i in range(0, len(huge), 65536))

    with httpx.Client(auth=(admin["client_id"], admin["client_secret"])) as http:
        for body in (huge, chunks()):
            refused = http.post(admin["token_url"], content=body, headers={"content-type": FORM})
            assert refused.status_code == 413 and refused.json()["error"] == "invalid_request", refused.text
        catalogue = http.post(f"{stack.urls['catalogue']}/v1/templates", content=huge, headers={"content-type": FORM})
        assert catalogue.status_code == 413
        assert http.post(admin["token_url"], data={"grant_type": "client_credentials"}).status_code == 200


async def test_a_provet_id_beyond_any_tenant_is_a_field_error_everywhere(stack: RunningStack) -> None:
    support = {"Authorization": f"Bearer {await client_credentials_token(stack.credentials['support'])}"}
    urls = stack.urls
    tenant_routes = [
        f"{urls['catalogue']}/v1/tenants/{NO_TENANT}/applications",
        f"{urls['provisioning']}/v1/tenants/{NO_TENANT}/virtual-users",
        f"{urls['notifier']}/v1/tenants/{NO_TENANT}/deliveries",
        f"{urls['notifier']}/v1/deliveries?provet_id={NO_TENANT}",
        f"{urls['token']}/v1/tenants/{NO_TENANT}/api-keys",
        f"{urls['token']}/{NO_TENANT}/oauth2/.well-known/openid-configuration",
    ]
    async with httpx.AsyncClient(headers=support) as http:
        for url in tenant_routes:
            answer = await http.get(url)
            assert answer.status_code == 422, (url, answer.status_code, answer.text)
            assert "provet_id" in answer.text, (url, answer.text)
        oauth = await http.post(f"{urls['token']}/{NO_TENANT}/oauth2/token/", data={"grant_type": "client_credentials"})
        assert oauth.status_code == 404, "like a non-numeric tenant: no route"
        publish = await http.post(
            f"{urls['catalogue']}/v1/templates/00000000-0000-0000-0000-000000000000/publish",
            json={"tenants": [NO_TENANT]},
        )
        assert publish.status_code == 422, publish.text
        assert (await http.get(f"{urls['catalogue']}/v1/tenants/1001/applications")).status_code == 200


async def test_text_with_a_nul_character_is_refused_not_a_500(stack: RunningStack) -> None:
    """PostgreSQL cannot store U+0000 in text; whichever route a client sends it to, it hears why."""
    support = {"Authorization": f"Bearer {await client_credentials_token(stack.credentials['support'])}"}
    urls = stack.urls
    async with httpx.AsyncClient() as http:
        answers = [
            await http.post(
                f"{urls['token']}/1001/oauth2/token/",
                data={"grant_type": "client_credentials", "client_id": "\x00", "client_secret": "x"},
            ),
            await http.post(
                f"{urls['token']}/v1/tenants/1001/api-keys",
                json={"name": "k\x00", "integration": "Lab", "owner_email": "ada@lab.example"},
                headers=support,
            ),
            await http.post(
                f"{urls['catalogue']}/v1/templates",
                json={
                    "name": "Lab\x00Sync",
                    "description": "Lab results into consultations",
                    "owner": {"name": "Ada Lab", "email": "ada@lab.example"},
                    "grant_type": "client_credentials",
                    "delivery": {"kind": "hook_url", "url": "http://127.0.0.1:9/hook"},
                },
                headers=support,
            ),
        ]
    for answer in answers:
        assert answer.status_code == 400, (answer.request.url, answer.status_code, answer.text)
        assert answer.json()["error"] == "invalid_request", answer.text


HOSTILE_PATH_VALUES = ["%00", "99999999999999999999", "-1", "a" * 3000, "%ED%A0%80", "..%2F..%2Fadmin", "1%0d%0aX:y"]
# None of these can be a valid body for any route, so no request below changes the shared stack's state.
HOSTILE_BODIES = [b"[]", b"null", b'"\\u0000"', b"[" * 20000 + b"]" * 20000, b"\xff\xfe{", b"{"]
PAGE_PARAMETERS = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "nonce"]
HOSTILE_TEXT = ["", "\x00", "\u00e9\u202e", "a" * 5000, "%", "&&==", "https://evil.example/cb"]


async def status_of(request: Awaitable[httpx.Response]) -> int:
    """The answer's status; a connection the server dropped (uvicorn does after an unhandled error) is a 500."""
    try:
        return (await request).status_code
    except httpx.TransportError:
        return 500


async def test_no_route_of_any_service_answers_500_to_hostile_input(stack: RunningStack) -> None:
    """Every route in every service's OpenAPI document, with hostile path values and bodies, and the
    authorization page with hostile parameters: each answer is a 4xx (or a 2xx for a harmless GET)."""
    support = {"Authorization": f"Bearer {await client_credentials_token(stack.credentials['support'])}"}
    failures: list[tuple[str, str, int]] = []
    asked = 0
    async with httpx.AsyncClient(headers=support, timeout=30) as http:
        for service in ("token", "catalogue", "provisioning", "notifier"):
            base = stack.urls[service]
            for path, operations in (await http.get(f"{base}/openapi.json")).json()["paths"].items():
                for method in operations:
                    for value in HOSTILE_PATH_VALUES if "{" in path else [""]:
                        url = base + re.sub(r"{\w+}", value, path)
                        bodies = HOSTILE_BODIES if method in ("post", "put", "patch") else [None]
                        for body in bodies:
                            headers = {"content-type": "application/json"} if body is not None else {}
                            status = await status_of(http.request(method.upper(), url, content=body, headers=headers))
                            asked += 1
                            if status >= 500:
                                failures.append((method, url[:100], status))
        authorize = f"{stack.urls['token']}/1001/oauth2/authorize/"
        for name in PAGE_PARAMETERS:
            for text in HOSTILE_TEXT:
                status = await status_of(
                    http.get(authorize, params={"response_type": "code", "client_id": "x", name: text})
                )
                asked += 1
                if status >= 500:
                    failures.append(("get", f"authorize {name}={text[:10]!r}", status))
    assert asked > 500, "the OpenAPI documents list the routes"
    assert failures == []
