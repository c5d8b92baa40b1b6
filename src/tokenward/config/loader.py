"""Loading the settings: environment variables (``TOKENWARD_*``), then an optional TOML file, then
explicit overrides (the CLI's flags), each overriding the one before; and handing resolved
settings to a child process."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from tokenward.config.settings import ENV_PREFIX, Settings
from tokenward.recipes.thirdparty.settings import ProviderSetting


class ConfigError(Exception):
    """Invalid configuration: one line naming the key and the rule it breaks."""


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


def settings_to_json(settings: Settings) -> str:
    """Serialise resolved settings, secrets included, for a child process of our own."""
    return json.dumps({name: _plain(getattr(settings, name)) for name in Settings.model_fields})


def _plain(value: Any) -> Any:
    """A setting's value as JSON takes it, secrets in clear (third-party providers as their
    provider JSON, client secrets included)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, ProviderSetting):
        return value.as_json()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def settings_from_json(text: str) -> Settings:
    """The inverse of settings_to_json. The values override anything in the environment."""
    return Settings(**json.loads(text))
