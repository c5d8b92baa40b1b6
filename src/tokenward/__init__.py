"""tokenward: self-hosted authentication and sessions, wire-compatible with SuperTokens.

The names in ``__all__`` are the public API; every other module may change between releases.
"""

from tokenward.__about__ import __version__
from tokenward.config import ConfigError, EmailBackend, Settings, load_settings
from tokenward.http.app import create_app
from tokenward.http.auth import Auth
from tokenward.http.session_guard import Session, SessionOptions
from tokenward.service.hooks import AuthEvent, Hooks, SignUpField, TheftEvent

__all__ = [
    "Auth",
    "AuthEvent",
    "ConfigError",
    "EmailBackend",
    "Hooks",
    "Session",
    "SessionOptions",
    "Settings",
    "SignUpField",
    "TheftEvent",
    "__version__",
    "create_app",
    "load_settings",
]
