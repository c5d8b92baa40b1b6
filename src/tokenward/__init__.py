"""tokenward: self-hosted authentication and sessions, wire-compatible with SuperTokens.

The names in ``__all__`` are the public API; every other module may change between releases.
They are imported on first use, so ``import tokenward`` (and ``import tokenward.client``, which
runs this file first) loads no server code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from tokenward.__about__ import __version__

if TYPE_CHECKING:
    from tokenward.app.auth import Auth
    from tokenward.app.server import create_app
    from tokenward.config import ConfigError, Settings, load_settings
    from tokenward.hooks import AuthEvent, Hooks, SignUpAttempt, SignUpField, TheftEvent
    from tokenward.recipes.session.request_session import Session, SessionOptions
    from tokenward.shared.email_delivery import EmailBackend

_HOMES = {
    "Auth": "tokenward.app.auth",
    "AuthEvent": "tokenward.hooks",
    "ConfigError": "tokenward.config",
    "EmailBackend": "tokenward.shared.email_delivery",
    "Hooks": "tokenward.hooks",
    "Session": "tokenward.recipes.session.request_session",
    "SessionOptions": "tokenward.recipes.session.request_session",
    "Settings": "tokenward.config",
    "SignUpAttempt": "tokenward.hooks",
    "SignUpField": "tokenward.hooks",
    "TheftEvent": "tokenward.hooks",
    "create_app": "tokenward.app.server",
    "load_settings": "tokenward.config",
}

__all__ = [
    "Auth",
    "AuthEvent",
    "ConfigError",
    "EmailBackend",
    "Hooks",
    "Session",
    "SessionOptions",
    "Settings",
    "SignUpAttempt",
    "SignUpField",
    "TheftEvent",
    "__version__",
    "create_app",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tokenward' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
