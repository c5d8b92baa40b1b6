"""The third-party recipe's settings (part of ``tokenward.config.Settings``): the providers, in
SuperTokens' provider JSON (camelCase keys, as its core API and SDKs write them)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from tokenward.recipes.thirdparty.rules.providers import InvalidProviderConfig, parse_provider


class ProviderClientSetting(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    clientId: str
    clientSecret: SecretStr | None = None


class ProviderSetting(BaseModel):
    """One provider: ``thirdPartyId``, ``clients`` and, for custom providers, its endpoints or
    ``oidcDiscoveryEndpoint`` (docs/social-login.md lists every key)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    thirdPartyId: str
    clients: tuple[ProviderClientSetting, ...]

    def as_json(self) -> dict[str, Any]:
        """SuperTokens' provider JSON, client secrets in clear (for the provider rules)."""
        data = self.model_dump()
        data["clients"] = [
            {
                **client.model_dump(),
                "clientSecret": client.clientSecret.get_secret_value()
                if client.clientSecret is not None
                else None,
            }
            for client in self.clients
        ]
        return data

    @model_validator(mode="after")
    def _usable(self) -> Self:
        try:
            parse_provider(self.as_json())
        except InvalidProviderConfig as exc:
            raise ValueError(str(exc)) from None
        return self


class ThirdPartySettings(BaseModel):
    thirdparty_providers: tuple[ProviderSetting, ...] = Field(
        default=(),
        description="Social and enterprise sign-in providers, each in SuperTokens' provider "
        "JSON: `thirdPartyId` (`google`, `github`, … or your own), `clients` (`clientId`, "
        "`clientSecret`, `clientType`, `scope`, `forcePKCE`, `additionalConfig`) and, for your "
        "own, `oidcDiscoveryEndpoint` or the endpoints (docs/social-login.md).",
    )
