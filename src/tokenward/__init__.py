"""tokenward: self-hosted authentication and sessions, wire-compatible with SuperTokens.

The names in ``__all__`` are the public API; every other module may change between releases.
"""

from tokenward.__about__ import __version__
from tokenward.config import ConfigError, EmailBackend, Settings, load_settings
from tokenward.http.app import create_app

__all__ = [
    "ConfigError",
    "EmailBackend",
    "Settings",
    "__version__",
    "create_app",
    "load_settings",
]
