"""The one typed settings object, and how it is loaded.

Sources, in increasing order of precedence: environment variables (``TOKENWARD_*``), an optional
TOML file, and explicit overrides (the CLI's flags). Every key and its default is documented in
docs/configuration.md; a test keeps that page and this class in step.
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tokenward.recipes.session.rules import cookie_policy
from tokenward.recipes.session.rules.cookie_policy import AntiCsrfMode
from tokenward.shared.email_delivery import EmailBackend

ENV_PREFIX = "TOKENWARD_"


class ConfigError(Exception):
    """Invalid configuration: one line naming the key and the rule it breaks."""


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) origin such as https://example.com, got {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"must be an origin without a path, query or fragment, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_local(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host == "localhost" or host.endswith(".localhost") or host in ("127.0.0.1", "::1")


class Settings(BaseSettings):
    """Every setting tokenward reads. Field docs are the reference for docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    database_url: str = Field(
        default="sqlite:///./tokenward.db",
        description="Where state lives: `sqlite:///path` (a file) or `postgresql://user@host/db`.",
    )
    host: str = Field(default="127.0.0.1", description="Address `tokenward serve` listens on.")
    port: int = Field(
        default=3567, ge=1, le=65535, description="Port `tokenward serve` listens on."
    )
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes of `serve`.")
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error.")

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
    api_domain: str = Field(
        default="http://localhost:3567",
        description="Public origin of the API (scheme://host:port).",
    )
    website_domain: str | None = Field(
        default=None,
        description="Origin of the website that uses the API. Default: the API domain.",
    )
    api_base_path: str = Field(default="/auth", description="Path prefix of the frontend API.")
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated keys for the core API (CDI). Empty: the core API is closed.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For / Forwarded headers are believed. Empty: the socket's peer is the client.",
    )

    signing_key_rotation_interval: int = Field(
        default=168,
        ge=1,
        le=8760,
        description="Hours between access-token signing-key rotations.",
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

    app_name: str = Field(
        default="tokenward", min_length=1, max_length=100, description="Name shown in emails."
    )
    website_base_path: str = Field(
        default="/auth", description="Path of the login pages on the website (used in email links)."
    )
    password_min_length: int = Field(
        default=8, ge=8, le=64, description="Shortest password accepted at sign-up and reset."
    )
    password_max_length: int = Field(
        default=256,
        ge=64,
        le=4096,
        description="Longest password accepted (longer ones are refused before hashing).",
    )
    password_hash_memory_kib: int = Field(
        default=19456, ge=7168, description="Argon2id memory cost in KiB (OWASP: 19 MiB)."
    )
    password_hash_time_cost: int = Field(default=2, ge=1, le=20, description="Argon2id passes.")
    password_hash_parallelism: int = Field(default=1, ge=1, le=16, description="Argon2id lanes.")
    password_hashing_pool_size: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Threads that hash passwords concurrently. Default: the number of CPUs.",
    )
    password_hashing_queue_limit: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Password hashes that may wait for a thread; beyond it sign-in and sign-up "
        "answer 503 with Retry-After.",
    )
    email_verification: Literal["OFF", "OPTIONAL", "REQUIRED"] = Field(
        default="OPTIONAL",
        description="OFF: no st-ev claim. OPTIONAL: the claim is kept, not enforced. REQUIRED: "
        "sessions of unverified users fail claim validation (403).",
    )
    email_verification_token_validity: int = Field(
        default=86_400, ge=60, description="Seconds an email-verification link stays valid."
    )
    password_reset_token_validity: int = Field(
        default=3600, ge=60, description="Seconds a password-reset link stays valid."
    )
    password_reset_revokes_sessions: bool = Field(
        default=True, description="Sign the user out everywhere when their password is reset."
    )

    email_backend: EmailBackend = Field(
        default=EmailBackend.CONSOLE,
        description="`console` prints emails to standard output (development); `smtp` sends them.",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server host (smtp backend).")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = Field(
        default=None, description="SMTP user name, if the server wants one."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (upgrade after connecting), tls (implicit TLS, port 465), or none.",
    )
    smtp_timeout: float = Field(default=10.0, gt=0, le=120, description="SMTP timeout in seconds.")
    smtp_from: str = Field(
        default="tokenward <no-reply@localhost>", description="From address of emails."
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep:
            raise ValueError("must be a URL such as sqlite:///./tokenward.db or postgresql://...")
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"scheme must be sqlite or postgresql, got {scheme!r}")
        if scheme == "sqlite" and not rest.startswith("/"):
            raise ValueError("a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
        if scheme == "sqlite" and len(rest) <= 1:
            raise ValueError("a SQLite URL needs a file path after sqlite:///")
        if scheme != "sqlite" and not urlsplit(value).hostname:
            raise ValueError("a PostgreSQL URL needs a host: postgresql://user@host:5432/db")
        return value

    @field_validator("api_domain")
    @classmethod
    def _api_domain(cls, value: str) -> str:
        return _origin(value)

    @field_validator("website_domain")
    @classmethod
    def _website_domain(cls, value: str | None) -> str | None:
        return None if value is None else _origin(value)

    @field_validator("api_base_path", "website_base_path")
    @classmethod
    def _base_path(cls, value: str) -> str:
        path = "/" + value.strip().strip("/")
        if any(c in path for c in "?#% ") or "//" in path:
            raise ValueError(f"must be a plain path such as /auth, got {value!r}")
        return path

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"each trusted proxy must be an IP address or network such as 10.0.0.0/8, "
                    f"got {entry!r}"
                ) from None
        return value

    @field_validator("api_keys")
    @classmethod
    def _key_strength(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for key in value:
            if len(key.get_secret_value()) < 20:
                raise ValueError("each API key must be at least 20 characters long")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.lower()
        if level not in ("debug", "info", "warning", "error", "critical"):
            raise ValueError("must be one of debug, info, warning, error, critical")
        return level

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
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
        if self.password_max_length < self.password_min_length:
            raise ValueError(
                "password_max_length (TOKENWARD_PASSWORD_MAX_LENGTH): must not be below "
                "password_min_length"
            )
        if self.session_expired_status_code == self.invalid_claim_status_code:
            raise ValueError(
                "invalid_claim_status_code (TOKENWARD_INVALID_CLAIM_STATUS_CODE): must differ "
                "from session_expired_status_code, or frontends cannot tell them apart"
            )
        try:
            cookie_policy.check_cookie_policy(
                self.effective_cookie_same_site,
                self.effective_cookie_secure,
                self.api_domain,
                self.effective_website_domain,
            )
        except ValueError as exc:
            raise ValueError(f"cookie_same_site (TOKENWARD_COOKIE_SAME_SITE): {exc}") from None
        if "email_backend" not in self.model_fields_set and not _is_local(self.api_domain):
            raise ValueError(
                "email_backend (TOKENWARD_EMAIL_BACKEND): set it when the API is not on "
                "localhost; the default console backend prints reset links to standard output"
            )
        if self.email_backend is EmailBackend.SMTP and not self.smtp_host:
            raise ValueError("smtp_host (TOKENWARD_SMTP_HOST): required when email_backend is smtp")
        return self

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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    known = set(Settings.model_fields)
    for key in data:
        if key not in known:
            raise ConfigError(f"config file {path}: unknown key {key!r}")
    return data


def _env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if not loc:
        return message
    field = loc[0]
    if error.get("type") == "extra_forbidden":
        return f"{field}: unknown setting"
    return f"{field} ({_env_name(field)}): {message}"


def load_settings(
    config_file: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build the settings from environment, TOML file and overrides; raise ConfigError if bad."""
    values = _read_toml(config_file) if config_file is not None else {}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError("; ".join(_describe(e) for e in exc.errors())) from None


def redacted(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain values with every secret masked (for `config show`)."""
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "********"
        elif isinstance(value, tuple):
            value = ["********" if isinstance(v, SecretStr) else v for v in value]
        elif name == "database_url":
            value = redact_url(value)
        elif isinstance(value, StrEnum):
            value = value.value
        out[name] = value
    return out


def redact_url(url: str) -> str:
    """Mask the password in a database URL."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":********@", 1)
    return parts._replace(netloc=netloc).geturl()


def settings_to_json(settings: Settings) -> str:
    """Serialise resolved settings, secrets included, for a child process of our own."""
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, tuple):
            value = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in value]
        values[name] = value
    return json.dumps(values)


def settings_from_json(text: str) -> Settings:
    """The inverse of settings_to_json. The values override anything in the environment."""
    return Settings(**json.loads(text))
