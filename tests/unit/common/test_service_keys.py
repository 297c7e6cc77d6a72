"""Service keys ("*" in the API keys file) and the credentials of calls between services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.common.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.common.internal import PLAINTEXT, InternalCredentials
from services.common.settings import CommonSettings
from services.common.tenancy import ApiKeys, hash_api_key


@pytest.fixture
def keys(tmp_path: Path) -> ApiKeys:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps({"acme": [hash_api_key("acme-key")], "*": [hash_api_key("service-key")]})
    )
    return ApiKeys.load(path)


def test_service_key_acts_for_the_tenant_it_names(keys: ApiKeys) -> None:
    assert keys.resolve("service-key", "acme") == "acme"
    assert keys.resolve("service-key", "globex") == "globex"


def test_service_key_without_a_tenant_is_invalid(keys: ApiKeys) -> None:
    with pytest.raises(InvalidArgument) as caught:
        keys.resolve("service-key", None)
    assert caught.value.field == "x-llmops-tenant"


def test_tenant_keys_keep_their_limits_beside_service_keys(keys: ApiKeys) -> None:
    assert keys.resolve("acme-key", None) == "acme"
    with pytest.raises(PermissionDenied):
        keys.resolve("acme-key", "globex")
    with pytest.raises(Unauthenticated):
        keys.resolve("*", "acme")


def test_internal_calls_carry_the_tenant_and_the_service_key_when_set() -> None:
    assert PLAINTEXT.metadata("acme") == (("x-llmops-tenant", "acme"),)
    keyed = InternalCredentials.from_settings(CommonSettings(internal_api_key="k"))
    assert keyed.channel_credentials is None
    assert keyed.metadata("acme") == (("x-llmops-tenant", "acme"), ("x-api-key", "k"))
