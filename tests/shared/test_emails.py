"""Email normalisation and the SuperTokens default email check."""

from __future__ import annotations

import pytest

from tokenward.shared.emails import INVALID_EMAIL, MAX_EMAIL_LENGTH, email_error, normalise_email


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM\n", "alice@example.com"),
        ("\tBOB.Smith+tag@Sub.Example.org ", "bob.smith+tag@sub.example.org"),
    ],
)
def test_normalise_strips_and_lower_cases(raw: str, normalised: str) -> None:
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    "email",
    [
        "alice@example.com",
        "a.b.c@example.co.uk",
        "first+tag@sub.domain.example",
        "o'brien@example.ie",
        "user_name-1@my-host.io",
        '"quoted local"@example.com',
        "user@[192.168.0.1]",
        "ünïcode@example.com",
    ],
)
def test_valid_emails(email: str) -> None:
    assert email_error(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plainaddress",
        "@example.com",
        "alice@",
        "alice@example",
        "alice@example.c",
        "alice@@example.com",
        "alice@exa mple.com",
        "al ice@example.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@example..com",
        "alice@example.com.",
        "alice@-.c0m",
        "<alice>@example.com",
        "alice@example.com\n",
        " alice@example.com",
        "alice@ex_ample.com",
        "alice@exämple.com",
    ],
)
def test_invalid_emails(email: str) -> None:
    assert email_error(email) == INVALID_EMAIL


def test_length_limit_is_320_characters() -> None:
    domain = "@" + "d" * 60 + ".com"
    at_limit = "a" * (MAX_EMAIL_LENGTH - len(domain)) + domain
    assert len(at_limit) == 320
    assert email_error(at_limit) is None
    assert email_error("a" + at_limit) == INVALID_EMAIL


def test_hostile_input_is_refused_by_length_before_the_regex() -> None:
    assert email_error('"' * 100_000 + "@") == INVALID_EMAIL
    assert email_error("a." * 100_000 + "@example.com") == INVALID_EMAIL
