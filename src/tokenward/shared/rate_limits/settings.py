"""The rate limits' settings (docs/rate-limits.md; part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RateLimitSettings(BaseModel):
    rate_limiting: bool = Field(
        default=True,
        description="Rate limits and sign-in backoff (docs/rate-limits.md). Off: none apply.",
    )
    rate_limit_requests_per_ip: int = Field(
        default=30,
        ge=1,
        description="Sign-ups and email-exists checks per minute, each per address and per email.",
    )
    rate_limit_refreshes_per_ip: int = Field(
        default=300, ge=1, description="Session refreshes per minute per client address."
    )
    rate_limit_failed_sign_ins_per_ip: int = Field(
        default=100,
        ge=1,
        description="Failed sign-ins per hour per client address, whatever the accounts.",
    )
    rate_limit_free_failures: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Consecutive failed sign-ins on one account from one address before the "
        "delay starts (four times as many from all addresses together).",
    )
    rate_limit_max_delay: int = Field(
        default=900,
        ge=1,
        le=86_400,
        description="Seconds: the cap of the delay that doubles with each further failure.",
    )
    rate_limit_emails_per_address: int = Field(
        default=5, ge=1, description="Reset and verification emails per hour per account."
    )
    rate_limit_emails_per_ip: int = Field(
        default=20, ge=1, description="Reset and verification emails per hour per client address."
    )
    rate_limit_codes_per_contact: int = Field(
        default=5,
        ge=1,
        description="Passwordless codes sent per hour to one email or phone number, and "
        "resent per sign-in attempt.",
    )
    rate_limit_codes_per_ip: int = Field(
        default=20, ge=1, description="Passwordless codes sent per hour per client address."
    )
    rate_limit_provider_sign_ins_per_ip: int = Field(
        default=60,
        ge=1,
        description="Sign-ins with a provider (social, enterprise) per minute per client "
        "address, and as many authorisation URLs.",
    )
