"""Settings: sources and their precedence, validation, redaction, and the documentation."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.support.cli import clean_env, tokenward
from tokenward import EmailBackend
from tokenward.config import ConfigError, Settings, load_settings, redacted
from tokenward.config.loader import settings_from_json, settings_to_json

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TOKENWARD_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///./tokenward.db"
    assert (s.access_token_validity, s.refresh_token_validity) == (3600, 8_640_000)
    assert s.api_domain == "http://localhost:3567"
    assert s.effective_website_domain == "http://localhost:3567"
    assert s.api_base_path == "/auth"
    assert s.api_keys == ()
    assert s.email_backend is EmailBackend.CONSOLE
    assert (s.host, s.port) == ("127.0.0.1", 3567)


def test_environment_then_toml_then_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENWARD_PORT", "4001")
    monkeypatch.setenv("TOKENWARD_HOST", "::1")
    monkeypatch.setenv("TOKENWARD_ACCESS_TOKEN_VALIDITY", "60")
    config = tmp_path / "tokenward.toml"
    config.write_text("port = 4002\naccess_token_validity = 120\n")
    s = load_settings(config, {"port": 4003})
    assert s.host == "::1", "environment applies where nothing overrides it"
    assert s.access_token_validity == 120, "the file beats the environment"
    assert s.port == 4003, "flags beat the file"
    assert load_settings(config, {"port": None}).port == 4002, "an unset flag changes nothing"


def test_api_keys_are_comma_separated_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENWARD_API_KEYS", "k" * 20 + " , " + "m" * 24 + ",")
    keys = load_settings().api_keys
    assert [k.get_secret_value() for k in keys] == ["k" * 20, "m" * 24]
    assert all(isinstance(k, SecretStr) for k in keys)


def test_urls_are_normalised() -> None:
    s = load_settings(
        overrides={
            "api_domain": "HTTPS://API.Example.com/",
            "api_base_path": "auth/",
            "email_backend": "console",
        }
    )
    assert s.api_domain == "https://api.example.com"
    assert s.api_base_path == "/auth"


@pytest.mark.parametrize(
    ("overrides", "key", "rule"),
    [
        ({"database_url": "mysql://db/x"}, "database_url", "scheme must be sqlite or postgresql"),
        ({"database_url": "not a url"}, "database_url", "must be a URL"),
        ({"database_url": "postgresql:///nohost"}, "database_url", "needs a host"),
        ({"refresh_token_validity": 3600}, "refresh_token_validity", "greater than"),
        ({"access_token_validity": -5}, "access_token_validity", "greater than 0"),
        ({"refresh_token_validity": -1}, "refresh_token_validity", "greater than 0"),
        ({"port": -1}, "port", "greater than or equal to 1"),
        ({"smtp_port": 0}, "smtp_port", "greater than or equal to 1"),
        ({"api_domain": "localhost:3567"}, "api_domain", "origin"),
        ({"website_domain": "https://x.com/app"}, "website_domain", "without a path"),
        ({"email_backend": "pigeon"}, "email_backend", "console"),
        ({"email_backend": "smtp"}, "smtp_host", "required"),
        ({"api_keys": "short"}, "api_keys", "at least 20"),
        ({"session_expired_status_code": 403}, "invalid_claim_status_code", "must differ"),
        (
            {"api_domain": "http://api.a.com", "website_domain": "http://b.com"},
            "cookie_same_site",
            "need Secure",
        ),
        ({"anti_csrf": "SOMETIMES"}, "anti_csrf", "VIA_TOKEN"),
        ({"signing_key_rotation_interval": 0}, "signing_key_rotation_interval", "greater than"),
        (
            {"session_absolute_lifetime": 60, "access_token_validity": 60},
            "session_absolute_lifetime",
            "greater than access_token_validity",
        ),
        ({"api_domain": "https://api.example.com"}, "email_backend", "not on localhost"),
    ],
)
def test_invalid_values_name_the_key_and_rule(
    overrides: dict[str, object], key: str, rule: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides=overrides)
    message = str(caught.value)
    assert key in message and f"TOKENWARD_{key.upper()}" in message
    assert rule in message
    assert "\n" not in message


def test_unknown_toml_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("port = 1\ndatabse_url = 'sqlite:///x'\n")
    with pytest.raises(ConfigError, match="unknown key 'databse_url'"):
        load_settings(config)


def test_unreadable_toml(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config)
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.toml")


def test_redaction_masks_every_secret() -> None:
    s = load_settings(
        overrides={
            "database_url": "postgresql://app:hunter2-db@db.example.com/tw",
            "smtp_password": "hunter2-smtp",
            "api_keys": "hunter2-api-key-0123456789",
        }
    )
    shown = repr(redacted(s))
    assert "hunter2" not in shown
    assert "postgresql://app:********@db.example.com/tw" in shown


def test_settings_pass_to_worker_processes_whole() -> None:
    """What `tokenward serve --workers N` hands its workers: every value, secrets in clear."""
    provider = {
        "thirdPartyId": "acme",
        "clients": [{"clientId": "acme-web", "clientSecret": "hunter2-client"}],
        "oidcDiscoveryEndpoint": "https://id.acme.example/.well-known/openid-configuration",
    }
    s = load_settings(overrides={"thirdparty_providers": [provider], "api_keys": "k" * 20})
    again = settings_from_json(settings_to_json(s))
    assert again == s
    [client] = again.thirdparty_providers[0].clients
    assert client.clientSecret is not None
    assert client.clientSecret.get_secret_value() == "hunter2-client"


@pytest.mark.parametrize(
    ("env", "toml", "args", "key"),
    [
        ({"TOKENWARD_DATABASE_URL": "oracle://x"}, None, [], "TOKENWARD_DATABASE_URL"),
        ({"TOKENWARD_REFRESH_TOKEN_VALIDITY": "10"}, None, [], "TOKENWARD_REFRESH_TOKEN_VALIDITY"),
        ({"TOKENWARD_ACCESS_TOKEN_VALIDITY": "-1"}, None, [], "TOKENWARD_ACCESS_TOKEN_VALIDITY"),
        ({}, "colour = 'blue'\n", [], "unknown key 'colour'"),
        ({}, None, ["--port", "-80"], "TOKENWARD_PORT"),
    ],
)
def test_invalid_configuration_stops_start_up_with_one_line_and_status_2(
    tmp_path: Path, env: dict[str, str], toml: str | None, args: list[str], key: str
) -> None:
    extra: list[str] = []
    if toml is not None:
        (tmp_path / "c.toml").write_text(toml)
        extra = ["--config", "c.toml"]
    for command in (["serve", *extra, *args], ["migrate", *extra], ["config", "show", *extra]):
        if args and command[0] != "serve":
            continue
        result = tokenward(*command, cwd=tmp_path, env=clean_env(**env))
        assert result.returncode == 2, (command, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("tokenward: invalid configuration:")
        assert key in lines[0]
        assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "tokenward.db").exists(), "nothing was created"


def test_documentation_lists_every_key_with_its_default() -> None:
    text = DOCS.read_text()
    rows = {
        m.group(1): m.group(3)
        for m in re.finditer(r"^\| `(\w+)` \| `(\w+)` \| (.+?) \|", text, re.MULTILINE)
    }
    assert set(rows) == set(Settings.model_fields), "docs/configuration.md is out of step"
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None or default == ():
            continue
        shown = default.value if isinstance(default, EmailBackend) else default
        assert f"`{shown}`" in rows[name], f"{name}: default {shown!r} not documented"
