"""The multi-tenancy recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from tokenward.http.schemas import Reply


class Enabled(Reply):
    enabled: bool


class ProviderName(Reply):
    id: str
    name: str


class ThirdPartyMethods(Reply):
    enabled: bool
    providers: list[ProviderName]


class LoginMethods(Reply):
    status: Literal["OK"]
    emailPassword: Enabled
    passwordless: Enabled
    thirdParty: ThirdPartyMethods
    webauthn: Enabled
    firstFactors: list[str]
