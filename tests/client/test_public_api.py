"""``tokenward.client`` exports exactly these names, and its options are checked up front."""

import pytest

import tokenward.client
from tokenward.client import ClientError, SessionAuth


def test_exported_names() -> None:
    assert sorted(tokenward.client.__all__) == [
        "AuthUnavailable",
        "ClientError",
        "SessionAuth",
        "SessionExpired",
        "SignInFailed",
        "UnexpectedResponse",
    ]
    for name in tokenward.client.__all__:
        value = getattr(tokenward.client, name)
        assert value is SessionAuth or issubclass(value, ClientError)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="both email and password"):
        SessionAuth("https://api.example", email="a@example.com")
    with pytest.raises(ValueError, match="renew_before"):
        SessionAuth("https://api.example", renew_before=-1)
