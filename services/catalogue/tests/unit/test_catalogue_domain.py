"""Template rules and activation status transitions, without any infrastructure."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from vetgate_catalogue.domain.activations import ActivationStatus, after_delivered, after_delivery_failed
from vetgate_catalogue.domain.templates import TemplateSpec, TemplateState, check_redirect_uri, hook_url_refusal


def spec(**overrides: Any) -> TemplateSpec:
    body: dict[str, Any] = {
        "name": "Lab Sync",
        "owner": {"name": "Ada", "email": "ada@lab.example"},
        "grant_type": "client_credentials",
        "delivery": {"kind": "hook_url", "url": "https://hooks.example/x"},
        "sandbox_tenants": [1002, 1001, 1002],
    }
    return TemplateSpec.model_validate(body | overrides)


def test_sandbox_tenants_are_kept_distinct_and_only_they_install_before_go_live() -> None:
    template = spec()
    assert template.sandbox_tenants == [1001, 1002]
    assert template.installable_by(1001, TemplateState.SANDBOX)
    assert not template.installable_by(1003, TemplateState.SANDBOX)
    assert not template.installable_by(1003, TemplateState.UNLISTED)
    assert template.installable_by(1003, TemplateState.LIVE)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://[::1]/cb",
        "com.example.app:/cb",
    ],
)
def test_acceptable_redirect_uris(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri", ["http://app.example/cb", "https://app.example/cb#x", "javascript:alert(1)", "/relative"]
)
def test_refused_redirect_uris(uri: str) -> None:
    with pytest.raises(ValueError):
        check_redirect_uri(uri)


def test_authorization_code_public_client_with_redirect_uris_is_fine() -> None:
    template = spec(grant_type="authorization_code", client_type="public", redirect_uris=["https://app.example/cb"])
    assert template.client_type == "public"
    with pytest.raises(ValidationError):
        spec(grant_type="client_credentials", client_type="public")


def test_hook_urls_outside_the_dev_stack_must_be_https_and_not_loopback() -> None:
    assert hook_url_refusal("https://hooks.example/x", dev_mode=False) is None
    assert hook_url_refusal("http://hooks.example/x", dev_mode=False) == "must be an https:// URL"
    assert hook_url_refusal("https://[::1]/x", dev_mode=False) is not None
    assert hook_url_refusal("http://127.0.0.1:9000/x", dev_mode=True) is None


def test_status_follows_the_first_delivery_and_never_revives_a_removed_installation() -> None:
    assert after_delivered(ActivationStatus.PENDING) == ActivationStatus.ACTIVE
    assert after_delivered(ActivationStatus.DELIVERY_FAILED) == ActivationStatus.ACTIVE
    assert after_delivered(ActivationStatus.DEACTIVATED) == ActivationStatus.DEACTIVATED
    assert after_delivery_failed(ActivationStatus.PENDING) == ActivationStatus.DELIVERY_FAILED
    assert after_delivery_failed(ActivationStatus.ACTIVE) == ActivationStatus.ACTIVE
    assert after_delivery_failed(ActivationStatus.DEACTIVATED) == ActivationStatus.DEACTIVATED
