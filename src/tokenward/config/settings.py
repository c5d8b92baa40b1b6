"""The one typed settings object: the recipes' and shared pieces' settings models composed, with
the checks that span them. Every field keeps its flat name (``TOKENWARD_<NAME>``, the same TOML
key), so each model adds fields without renaming any. docs/configuration.md lists them all; a
test keeps that page and this class in step."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tokenward.config.email import EmailSettings
from tokenward.config.encryption import EncryptionSettings
from tokenward.config.hashing import PasswordHashingSettings
from tokenward.config.server import ServerSettings, is_local
from tokenward.config.sms import SmsSettings
from tokenward.recipes.emailpassword.settings import EmailPasswordSettings
from tokenward.recipes.emailverification.settings import EmailVerificationSettings
from tokenward.recipes.jwt.settings import JwtSettings
from tokenward.recipes.multifactorauth.settings import MultiFactorAuthSettings
from tokenward.recipes.passwordless.rules import ContactMethod
from tokenward.recipes.passwordless.settings import PasswordlessSettings
from tokenward.recipes.session.rules import cookie_policy
from tokenward.recipes.session.rules.cookie_policy import AntiCsrfMode
from tokenward.recipes.session.settings import SessionSettings
from tokenward.recipes.thirdparty.settings import ThirdPartySettings
from tokenward.recipes.totp.settings import TotpSettings
from tokenward.shared.email_delivery import EmailBackend
from tokenward.shared.rate_limits.settings import RateLimitSettings

ENV_PREFIX = "TOKENWARD_"


class Settings(
    ServerSettings,
    SessionSettings,
    JwtSettings,
    RateLimitSettings,
    EmailPasswordSettings,
    PasswordHashingSettings,
    EmailVerificationSettings,
    PasswordlessSettings,
    ThirdPartySettings,
    TotpSettings,
    MultiFactorAuthSettings,
    EmailSettings,
    EncryptionSettings,
    SmsSettings,
    BaseSettings,
):
    """Every setting tokenward reads. Field docs are the reference for docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        try:
            cookie_policy.check_cookie_policy(
                self.effective_cookie_same_site,
                self.effective_cookie_secure,
                self.api_domain,
                self.effective_website_domain,
            )
        except ValueError as exc:
            raise ValueError(f"cookie_same_site (TOKENWARD_COOKIE_SAME_SITE): {exc}") from None
        if "email_backend" not in self.model_fields_set and not is_local(self.api_domain):
            raise ValueError(
                "email_backend (TOKENWARD_EMAIL_BACKEND): set it when the API is not on "
                "localhost; the default console backend prints reset links to standard output"
            )
        if self.email_backend is EmailBackend.SMTP and not self.smtp_host:
            raise ValueError("smtp_host (TOKENWARD_SMTP_HOST): required when email_backend is smtp")
        if (
            "passwordless_contact_method" in self.model_fields_set
            and self.passwordless_contact_method.takes_phone
            and self._console_sms_off_localhost
        ):
            raise ValueError(
                "sms_backend (TOKENWARD_SMS_BACKEND): set it when the API is not on localhost "
                "and passwordless_contact_method takes phone numbers; the default console "
                "backend prints sign-in codes to standard output"
            )
        return self

    @property
    def _console_sms_off_localhost(self) -> bool:
        return "sms_backend" not in self.model_fields_set and not is_local(self.api_domain)

    @property
    def effective_passwordless_contact_method(self) -> ContactMethod:
        """The contact methods passwordless sign-in takes. Left at its default off localhost
        with no SMS backend set, it is email only: codes are never printed in production."""
        if self._console_sms_off_localhost:
            return ContactMethod.EMAIL
        return self.passwordless_contact_method

    @property
    def effective_website_domain(self) -> str:
        return self.website_domain or self.api_domain

    @property
    def effective_cookie_same_site(self) -> cookie_policy.SameSite:
        return cookie_policy.same_site(
            self.api_domain, self.effective_website_domain, self.cookie_same_site
        )

    @property
    def effective_cookie_secure(self) -> bool:
        return cookie_policy.secure(self.api_domain, self.cookie_secure)

    @property
    def effective_anti_csrf(self) -> AntiCsrfMode:
        return cookie_policy.anti_csrf_mode(self.effective_cookie_same_site, self.anti_csrf)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Init arguments (the TOML file merged under the CLI flags) beat the environment.
        # No .env file and no secrets directory: configuration comes only from explicit places.
        return (init_settings, env_settings)
