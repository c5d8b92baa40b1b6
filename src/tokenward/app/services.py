"""Wiring the services from settings and open stores (used by the server and by embedding)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from tokenward.app.stores import Stores
from tokenward.config import Settings
from tokenward.config.server import is_local
from tokenward.hooks import Hooks, MfaQuestion, SignUpAttempt
from tokenward.recipes.emailpassword.rules import default_validators
from tokenward.recipes.emailpassword.service.accounts import EmailPasswordAccounts, PasswordRules
from tokenward.recipes.emailpassword.service.common_passwords import common_passwords
from tokenward.recipes.emailpassword.service.password_reset import PasswordReset
from tokenward.recipes.emailverification.service import EmailVerification, Mode
from tokenward.recipes.jwt.service import KeyRing
from tokenward.recipes.multifactorauth.rules import Requirement
from tokenward.recipes.multifactorauth.service.factors import (
    MfaPolicy,
    MultiFactorAuth,
    RequirementsRule,
)
from tokenward.recipes.multifactorauth.service.recovery_codes import RecoveryCodes
from tokenward.recipes.passwordless.port import Contact
from tokenward.recipes.passwordless.rules import RECIPE_ID as PASSWORDLESS
from tokenward.recipes.passwordless.service import CodePolicy, Passwordless, SignUpCheck
from tokenward.recipes.session.rules import refresh_token
from tokenward.recipes.session.rules.cookie_policy import AntiCsrfMode
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.service.sessions import SessionService
from tokenward.recipes.thirdparty.rules.providers import parse_provider
from tokenward.recipes.thirdparty.service.providers import TenantProviders
from tokenward.recipes.thirdparty.service.sign_in import SignUpCheck as ProviderSignUpCheck
from tokenward.recipes.thirdparty.service.sign_in import ThirdPartySignIn
from tokenward.recipes.thirdparty.sql import RECIPE_ID as THIRD_PARTY
from tokenward.recipes.totp.rules import AttemptBudget, CodeShape
from tokenward.recipes.totp.service import Totp
from tokenward.recipes.usermetadata.service import UserMetadata
from tokenward.recipes.userroles.service import Roles
from tokenward.recipes.users.port import UserRecord
from tokenward.shared.clock import Clock
from tokenward.shared.email_delivery import EmailSender, sender_from_settings
from tokenward.shared.email_templates import reset_link, verification_link
from tokenward.shared.encoding import b64url_decode, b64url_encode
from tokenward.shared.id_tokens import JwksCache
from tokenward.shared.outbound_http import make_client
from tokenward.shared.password_hashing import PasswordHasher
from tokenward.shared.rate_limits import rules as rate_limit
from tokenward.shared.rate_limits.limiter import RateLimiter
from tokenward.shared.secret_box import SecretBox, new_key
from tokenward.shared.sms_delivery import SmsSender
from tokenward.shared.sms_delivery import sender_from_settings as sms_sender_from_settings

REFRESH_KEY_SECRET = "refresh_token_key"  # noqa: S105 - the name of a stored secret
ENCRYPTION_KEY_SECRET = "encryption_key"  # noqa: S105 - the name of a stored secret
"""The stored key that encrypts secrets at rest when ``encryption_keys`` sets none (and that
still decrypts what it encrypted once keys are set)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    sessions: SessionService
    keys: KeyRing
    hasher: PasswordHasher
    accounts: EmailPasswordAccounts
    password_reset: PasswordReset
    email_verification: EmailVerification
    passwordless: Passwordless
    thirdparty: ThirdPartySignIn
    thirdparty_providers: TenantProviders
    totp: Totp
    mfa: MultiFactorAuth
    recovery_codes: RecoveryCodes
    roles: Roles
    user_metadata: UserMetadata
    rate_limits: RateLimiter | None
    """None when rate limiting is off."""
    provider_http: httpx.AsyncClient
    """The one client for identity providers (closed with the services)."""

    async def close(self) -> None:
        self.hasher.close()
        await self.provider_http.aclose()


def key_ring(settings: Settings, stores: Stores, clock: Clock) -> KeyRing:
    return KeyRing(
        stores.signing_keys,
        clock,
        rotation_interval_ms=settings.signing_key_rotation_interval * 3_600_000,
        access_token_validity_ms=settings.access_token_validity * 1000,
    )


def rate_limiter(settings: Settings, stores: Stores, clock: Clock) -> RateLimiter | None:
    if not settings.rate_limiting:
        return None
    policy = rate_limit.policy(
        requests_per_ip=settings.rate_limit_requests_per_ip,
        refreshes_per_ip=settings.rate_limit_refreshes_per_ip,
        failed_sign_ins_per_ip=settings.rate_limit_failed_sign_ins_per_ip,
        free_failures=settings.rate_limit_free_failures,
        max_delay_s=settings.rate_limit_max_delay,
        emails_per_address=settings.rate_limit_emails_per_address,
        emails_per_ip=settings.rate_limit_emails_per_ip,
        codes_per_contact=settings.rate_limit_codes_per_contact,
        codes_per_ip=settings.rate_limit_codes_per_ip,
        provider_sign_ins_per_ip=settings.rate_limit_provider_sign_ins_per_ip,
    )
    return RateLimiter(stores.rate_limits, policy, clock)


def sign_up_check(hooks: Hooks) -> SignUpCheck | None:
    """The app's ``allow_sign_up`` hooks as the passwordless use case asks them."""
    checks = tuple(hooks.allow_sign_up)
    if not checks:
        return None

    async def allowed(tenant_id: str, contact: Contact) -> bool:
        attempt = SignUpAttempt(PASSWORDLESS, tenant_id, contact.email, contact.phone_number)
        for check in checks:
            if not await check(attempt):
                return False
        return True

    return allowed


def passwordless(
    settings: Settings,
    stores: Stores,
    clock: Clock,
    mail: EmailSender,
    sms: SmsSender,
    hooks: Hooks,
) -> Passwordless:
    policy = CodePolicy(
        flow_type=settings.passwordless_flow_type,
        contact_method=settings.effective_passwordless_contact_method,
        code_lifetime_ms=settings.passwordless_code_lifetime * 1000,
        max_attempts=settings.passwordless_max_code_input_attempts,
        app_name=settings.app_name,
        website=settings.effective_website_domain + settings.website_base_path.rstrip("/"),
    )
    return Passwordless(
        stores.passwordless,
        stores.users,
        mail,
        sms,
        policy,
        clock,
        sign_up_check=sign_up_check(hooks),
    )


def provider_sign_up_check(hooks: Hooks) -> ProviderSignUpCheck | None:
    """The app's ``allow_sign_up`` hooks as the third-party use case asks them."""
    checks = tuple(hooks.allow_sign_up)
    if not checks:
        return None

    async def allowed(tenant_id: str, third_party_id: str, email: str) -> bool:
        attempt = SignUpAttempt(THIRD_PARTY, tenant_id, email, None, third_party_id)
        for check in checks:
            if not await check(attempt):
                return False
        return True

    return allowed


def tenant_providers(
    settings: Settings, stores: Stores, clock: Clock, http: httpx.AsyncClient
) -> TenantProviders:
    configured = [parse_provider(p.as_json()) for p in settings.thirdparty_providers]
    return TenantProviders(stores.provider_configs, configured, http, clock)


def third_party(
    settings: Settings,
    stores: Stores,
    clock: Clock,
    http: httpx.AsyncClient,
    providers: TenantProviders,
    hooks: Hooks,
) -> ThirdPartySignIn:
    return ThirdPartySignIn(
        stores.thirdparty,
        providers,
        http,
        JwksCache(http, clock=lambda: clock.now_ms() / 1000),  # the app's time, as discovery's
        clock,
        allowed_origins=(settings.effective_website_domain, settings.api_domain),
        sign_up_check=provider_sign_up_check(hooks),
    )


async def secret_box(settings: Settings, stores: Stores, clock: Clock) -> SecretBox:
    """The configured keys (the first encrypts), then the stored one, which only decrypts
    unless no key is configured."""
    stored = await stores.secrets.get_or_create(
        ENCRYPTION_KEY_SECRET, b64url_encode(new_key()), now=clock.now_ms()
    )
    configured = settings.encryption_key_bytes
    if not configured and not is_local(settings.api_domain):
        log.warning(
            "encryption_keys is not set: TOTP secrets are encrypted with a key kept in the "
            "same database, which protects nothing if the database leaks (docs/mfa.md)"
        )
    return SecretBox((*configured, b64url_decode(stored)))


def totp(settings: Settings, stores: Stores, clock: Clock, box: SecretBox) -> Totp:
    return Totp(
        stores.totp,
        box,
        clock,
        shape=CodeShape(
            period=settings.totp_period, digits=settings.totp_digits, skew=settings.totp_skew
        ),
        budget=AttemptBudget(
            max_attempts=settings.totp_max_attempts,
            cooldown_ms=settings.totp_rate_limit_cooldown * 1000,
        ),
        issuer=settings.totp_issuer or settings.app_name,
    )


def requirements_rule(hooks: Hooks) -> RequirementsRule | None:
    """The app's ``mfa_requirements`` hooks as the MFA use case asks them: the first that
    answers decides."""
    rules = tuple(hooks.mfa_requirements)
    if not rules:
        return None

    async def decide(
        user: UserRecord, tenant_id: str, set_up: list[str], default: list[Requirement]
    ) -> list[Any] | None:
        question = MfaQuestion(user, tenant_id, tuple(set_up), tuple(default))
        for rule in rules:
            answer = await rule(question)
            if isinstance(answer, str | bytes):
                raise TypeError("an mfa_requirements hook returns a list of requirements")
            if answer is not None:
                return list(answer)
        return None

    return decide


def multi_factor_auth(
    settings: Settings,
    stores: Stores,
    clock: Clock,
    verification: EmailVerification,
    totp_service: Totp,
    metadata: UserMetadata,
    mail: EmailSender,
    hooks: Hooks,
) -> MultiFactorAuth:
    method = settings.effective_passwordless_contact_method
    sends_codes = settings.passwordless_flow_type.value != "MAGIC_LINK"
    return MultiFactorAuth(
        stores.users,
        verification,
        totp_service,
        metadata,
        mail,
        clock,
        MfaPolicy(
            required=settings.mfa_required_secondary_factors,
            enrolled_required=settings.mfa_enrolled_factors_required,
            otp_email=sends_codes and method.takes_email,
            otp_phone=sends_codes and method.takes_phone,
            app_name=settings.app_name,
            notify=settings.mfa_factor_change_emails,
        ),
        requirements_rule(hooks),
    )


async def open_services(
    settings: Settings,
    stores: Stores,
    clock: Clock,
    *,
    sender: EmailSender | None = None,
    sms: SmsSender | None = None,
    hooks: Hooks | None = None,
) -> Services:
    """Load the keys (making the first signing key if there is none) and the refresh-token
    sealing key (made once per deployment, shared by every instance), and build the flows."""
    keys = key_ring(settings, stores, clock)
    await keys.reload()
    await keys.signing_key()
    stored = await stores.secrets.get_or_create(
        REFRESH_KEY_SECRET, b64url_encode(refresh_token.new_key()), now=clock.now_ms()
    )
    policy = SessionPolicy(
        access_token_validity_ms=settings.access_token_validity * 1000,
        refresh_token_validity_ms=settings.refresh_token_validity * 1000,
        issuer=settings.api_domain + settings.api_base_path,
        anti_csrf_tokens=settings.effective_anti_csrf is AntiCsrfMode.VIA_TOKEN,
        absolute_lifetime_ms=settings.session_absolute_lifetime * 1000,
        verify_issuer=not settings.api_keys,
    )
    sessions = SessionService(stores.sessions, keys, b64url_decode(stored), policy, clock)
    hasher = PasswordHasher(
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        parallelism=settings.password_hash_parallelism,
        pool_size=settings.password_hashing_pool_size,
        queue_limit=settings.password_hashing_queue_limit,
    )
    mail = sender or sender_from_settings(settings)
    http = make_client()
    providers = tenant_providers(settings, stores, clock, http)
    accounts = EmailPasswordAccounts(
        stores.users,
        hasher,
        PasswordRules(
            validators=default_validators(
                common_passwords(), settings.password_min_length, settings.password_max_length
            ),
            max_length=settings.password_max_length,
            app_name=settings.app_name,
        ),
        clock,
    )
    reset = PasswordReset(
        stores.users,
        stores.password_reset,
        stores.email_verification,
        stores.one_time_tokens,
        accounts,
        sessions,
        mail,
        partial(reset_link, settings),
        app_name=settings.app_name,
        token_validity_ms=settings.password_reset_token_validity * 1000,
        revoke_sessions=settings.password_reset_revokes_sessions,
        clock=clock,
    )
    verification = EmailVerification(
        stores.users,
        stores.email_verification,
        stores.one_time_tokens,
        mail,
        partial(verification_link, settings),
        mode=Mode(settings.email_verification),
        app_name=settings.app_name,
        token_validity_ms=settings.email_verification_token_validity * 1000,
        clock=clock,
    )
    box = await secret_box(settings, stores, clock)
    totp_service = totp(settings, stores, clock, box)
    metadata = UserMetadata(stores.user_metadata, clock)
    hooks = hooks or Hooks()
    return Services(
        sessions,
        keys,
        hasher,
        accounts,
        reset,
        verification,
        passwordless(
            settings,
            stores,
            clock,
            mail,
            sms or sms_sender_from_settings(settings),
            hooks,
        ),
        third_party(settings, stores, clock, http, providers, hooks),
        providers,
        totp_service,
        multi_factor_auth(
            settings, stores, clock, verification, totp_service, metadata, mail, hooks
        ),
        RecoveryCodes(stores.recovery_codes, clock, count=settings.mfa_recovery_code_count),
        Roles(stores.roles, clock),
        metadata,
        rate_limiter(settings, stores, clock),
        http,
    )
