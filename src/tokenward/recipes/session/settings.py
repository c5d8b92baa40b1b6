"""The session recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from tokenward.recipes.session.rules.cookie_policy import AntiCsrfMode


class SessionSettings(BaseModel):
    access_token_validity: int = Field(
        default=3600, gt=0, description="Access-token lifetime in seconds."
    )
    refresh_token_validity: int = Field(
        default=8_640_000,
        gt=0,
        description="Refresh-token (session) lifetime in seconds; slides on every renewal.",
    )
    session_absolute_lifetime: int = Field(
        default=2_592_000,
        ge=0,
        description="Seconds after sign-in when a session ends however often it is refreshed "
        "(30 days, NIST AAL1 reauthentication); 0: no absolute limit.",
    )
    session_expired_status_code: int = Field(
        default=401,
        ge=400,
        le=599,
        description="Status that tells frontends to refresh (`try refresh token`).",
    )
    invalid_claim_status_code: int = Field(
        default=403, ge=400, le=599, description="Status for failed claim validation."
    )
    anti_csrf: AntiCsrfMode | None = Field(
        default=None,
        description="NONE, VIA_CUSTOM_HEADER or VIA_TOKEN. Default: VIA_CUSTOM_HEADER when "
        "cookies are SameSite=None, else NONE.",
    )
    cookie_same_site: Literal["lax", "strict", "none"] | None = Field(
        default=None,
        description="SameSite of session cookies. Default: none when the website and API are "
        "on different sites or schemes, else lax.",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Secure flag of session cookies. Default: API domain is https."
    )
    cookie_domain: str | None = Field(
        default=None, description="Domain attribute of session cookies. Default: unset."
    )
    session_cleanup_interval: int = Field(
        default=3600,
        ge=10,
        description="Seconds between removals of expired sessions by `tokenward serve`.",
    )

    @model_validator(mode="after")
    def _session_checks(self) -> Self:
        if self.refresh_token_validity <= self.access_token_validity:
            raise ValueError(
                "refresh_token_validity (TOKENWARD_REFRESH_TOKEN_VALIDITY): must be greater than "
                f"access_token_validity ({self.refresh_token_validity} <= "
                f"{self.access_token_validity})"
            )
        if 0 < self.session_absolute_lifetime <= self.access_token_validity:
            raise ValueError(
                "session_absolute_lifetime (TOKENWARD_SESSION_ABSOLUTE_LIFETIME): must be 0 "
                "or greater than access_token_validity"
            )
        if self.session_expired_status_code == self.invalid_claim_status_code:
            raise ValueError(
                "invalid_claim_status_code (TOKENWARD_INVALID_CLAIM_STATUS_CODE): must differ "
                "from session_expired_status_code, or frontends cannot tell them apart"
            )
        return self
