"""The curated public API: exactly these names, and each importable."""

import tokenward


def test_exported_names() -> None:
    assert sorted(tokenward.__all__) == [
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
    for name in tokenward.__all__:
        assert getattr(tokenward, name) is not None
