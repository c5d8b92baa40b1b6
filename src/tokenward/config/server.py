"""Where tokenward runs and who may call it: database, listener, public origins and paths, core-API
keys, trusted proxies, and the app's name."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) origin such as https://example.com, got {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"must be an origin without a path, query or fragment, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_local(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host == "localhost" or host.endswith(".localhost") or host in ("127.0.0.1", "::1")


class ServerSettings(BaseModel):
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
    api_domain: str = Field(
        default="http://localhost:3567",
        description="Public origin of the API (scheme://host:port).",
    )
    website_domain: str | None = Field(
        default=None,
        description="Origin of the website that uses the API. Default: the API domain.",
    )
    api_base_path: str = Field(default="/auth", description="Path prefix of the frontend API.")
    website_base_path: str = Field(
        default="/auth", description="Path of the login pages on the website (used in email links)."
    )
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated keys for the core API (CDI). Empty: the core API is closed.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For / Forwarded headers are believed. Empty: the socket's peer is the client.",
    )
    app_name: str = Field(
        default="tokenward", min_length=1, max_length=100, description="Name shown in emails."
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
