"""Providers in the settings: SuperTokens' JSON, checked at start-up, secrets never shown."""

from __future__ import annotations

import pytest

from tokenward.config import ConfigError, load_settings
from tokenward.config.redaction import redacted

GOOGLE = {"thirdPartyId": "google", "clients": [{"clientId": "g", "clientSecret": "topsecret"}]}


def test_providers_load_and_their_secrets_are_masked() -> None:
    settings = load_settings(overrides={"thirdparty_providers": [GOOGLE]})
    [provider] = settings.thirdparty_providers
    assert provider.as_json()["clients"][0]["clientSecret"] == "topsecret"
    shown = str(redacted(settings)["thirdparty_providers"])
    assert "topsecret" not in shown and "clientId" in shown
    assert "topsecret" not in repr(settings)


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ({"thirdPartyId": "acme", "clients": [{"clientId": "a"}]}, "give oidcDiscoveryEndpoint"),
        ({"thirdPartyId": "google", "clients": []}, "non-empty"),
        ({"thirdPartyId": "google"}, "Field required"),
    ],
)
def test_a_bad_provider_stops_the_start(provider: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides={"thirdparty_providers": [provider]})
