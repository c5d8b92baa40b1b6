"""Settings: one typed object (``Settings``) composed of each recipe's and shared piece's model,
loaded from the environment, a TOML file and flags (``load_settings``)."""

from tokenward.config.loader import ConfigError, load_settings, settings_from_json, settings_to_json
from tokenward.config.redaction import redact_url, redacted
from tokenward.config.settings import ENV_PREFIX, Settings

__all__ = [
    "ENV_PREFIX",
    "ConfigError",
    "Settings",
    "load_settings",
    "redact_url",
    "redacted",
    "settings_from_json",
    "settings_to_json",
]
