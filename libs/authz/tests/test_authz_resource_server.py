"""``ResourceServer`` from the shared settings: API keys accepted only with introspection credentials."""

from __future__ import annotations

import pytest
from authz_key_server import SUPPORT, SUPPORT_SECRET, FakeTokenService, key_answer
from authz_testkit import BASE
from pydantic import ValidationError
from vetgate_authz import InvalidToken, ResourceServer
from vetgate_platform.settings import ServiceSettings

KEY = "vk_live_resource_server_0123"
INTROSPECTION_ENV = {
    "VETGATE_INTROSPECTION_TOKEN_URL": SUPPORT.token_url,
    "VETGATE_INTROSPECTION_CLIENT_ID": SUPPORT.client_id,
    "VETGATE_INTROSPECTION_CLIENT_SECRET": SUPPORT_SECRET,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*INTROSPECTION_ENV, "VETGATE_API_KEY_USAGE_INTERVAL"]:
        monkeypatch.delenv(name, raising=False)


async def test_without_introspection_settings_keys_are_refused() -> None:
    rs = ResourceServer.for_settings(ServiceSettings(token_base_url=BASE))
    assert rs.usage is None and rs.background() == [rs.feed.run]
    with pytest.raises(InvalidToken, match="API keys are not accepted here"):
        await rs.authorizer.authenticate(f"Token {KEY}", provet_id=1)


async def test_introspection_settings_come_from_the_environment_and_the_secret_never_prints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in INTROSPECTION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VETGATE_API_KEY_USAGE_INTERVAL", "2.5")
    settings = ServiceSettings()
    assert settings.introspection_client_secret is not None
    assert settings.introspection_client_secret.get_secret_value() == SUPPORT_SECRET
    assert SUPPORT_SECRET not in repr(settings) and SUPPORT_SECRET not in str(settings.model_dump())
    rs = ResourceServer.for_settings(settings)
    assert rs.usage is not None and rs.background() == [rs.feed.run, rs.usage.run]
    assert rs.authorizer.introspection is not None


@pytest.mark.parametrize("missing", list(INTROSPECTION_ENV))
def test_introspection_settings_are_all_or_nothing(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    for name, value in INTROSPECTION_ENV.items():
        if name != missing:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="set together, or not at all"):
        ServiceSettings()


async def test_for_platform_with_the_support_client_accepts_keys_of_any_tenant() -> None:
    service = FakeTokenService({KEY: key_answer(7)})
    async with service.http() as http:
        rs = ResourceServer.for_platform(BASE, "127.0.0.1:1", introspection=SUPPORT, http=http)
        token = await rs.authorizer.authenticate(f"Token {KEY}", provet_id=7)
        assert (token.token_type, token.provet_id) == ("api_key", 7)
        await rs.authorizer.authenticate(f"Token {KEY}", provet_id=7)
        assert rs.usage is not None and await rs.usage.report()
    assert [[use["count"] for use in batch] for batch in service.usage_reports] == [[1]]
