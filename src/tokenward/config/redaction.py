"""The effective settings with every secret masked (for `tokenward config show`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from tokenward.config.settings import Settings


def redacted(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain values with every secret masked (for `config show`)."""
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "********"
        elif isinstance(value, tuple):
            value = [_masked(v) for v in value]
        elif name == "database_url":
            value = redact_url(value)
        elif isinstance(value, StrEnum):
            value = value.value
        out[name] = value
    return out


def _masked(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, BaseModel):  # e.g. a provider with its clients' secrets
        return value.model_dump(mode="json", exclude_none=True)  # SecretStr dumps masked
    return value


def redact_url(url: str) -> str:
    """Mask the password in a database URL."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":********@", 1)
    return parts._replace(netloc=netloc).geturl()
