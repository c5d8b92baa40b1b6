"""The password policy: NIST 800-63B-4 defaults (PWD-01..05) and replaceable validators."""

from __future__ import annotations

import random
import string

import pytest

from tokenward.recipes.emailpassword import rules as password_policy
from tokenward.recipes.emailpassword.rules import (
    CONTAINS_APP_NAME,
    CONTAINS_EMAIL,
    CONTAINS_EMAIL_NAME,
    NOT_ENCODABLE,
    TOO_COMMON,
    PasswordContext,
    PasswordValidator,
    default_validators,
    first_error,
    max_length,
    min_length,
    not_common,
    not_contextual,
)
from tokenward.recipes.emailpassword.service.common_passwords import common_passwords

NO_CONTEXT = PasswordContext()
DEFAULTS = default_validators(common_passwords())
TOO_SHORT = "Password must contain at least 8 characters"
TOO_LONG = "Password must be at most 256 characters"


def check(password: str, context: PasswordContext = NO_CONTEXT) -> str | None:
    return first_error(password, context, DEFAULTS)


def random_lowercase(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("", TOO_SHORT),
        ("vq7#kd!", TOO_SHORT),  # 7 characters
        ("vq7#kd!z", None),  # 8 characters
        ("tr0ub4dor&3 horse", None),
        ("x" * 7, TOO_SHORT),
        ("zq" * 32, None),  # 64
        ("zq" * 64, None),  # 128
        ("zq" * 128, None),  # 256
        ("zq" * 128 + "z", TOO_LONG),  # 257
    ],
)
def test_length_table(password: str, expected: str | None) -> None:
    assert check(password) == expected


def test_length_rule_names_the_configured_bounds() -> None:
    validators = default_validators(common_passwords(), min_len=15, max_len=64)
    assert first_error("a" * 14 + "Q", NO_CONTEXT, validators) is None
    assert first_error("kq7dx!vmz2", NO_CONTEXT, validators) == (
        "Password must contain at least 15 characters"
    )
    assert first_error("k" * 65, NO_CONTEXT, validators) == "Password must be at most 64 characters"


@pytest.mark.parametrize("seed", range(20))
def test_random_lowercase_letters_accepted_no_composition_rule(seed: int) -> None:
    assert check(random_lowercase(20, seed)) is None


@pytest.mark.parametrize(
    "password",
    ["lowercaseonlypassphrase", "1029384756123987", "UPPERCASEONLYWORDS", "withspaces in it"],
)
def test_no_composition_rules(password: str) -> None:
    assert check(password) is None


def test_too_long_is_refused_before_any_other_validator() -> None:
    seen: list[str] = []

    def spy(password: str, context: PasswordContext) -> str | None:
        seen.append(password)
        return None

    huge = "password" * 125_000  # 1 MB, and a blocklisted word repeated
    validators = (max_length(256), spy, not_common(common_passwords()), not_contextual())
    assert first_error(huge, PasswordContext(email="a@b.co"), validators) == TOO_LONG
    assert seen == []
    assert check(huge) == TOO_LONG


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "password1234",
        "PASSWORD1234",
        "Password1234",
        "qwertyuiop",
        "QwErTyUiOp",
        "iloveyou123",
        "iloveyou",
        "12345678",
        "1q2w3e4r5t",
        "trustno1",
        "Sunshine",
    ],
)
def test_common_passwords_refused_case_insensitively(password: str) -> None:
    assert check(password) == TOO_COMMON


def test_blocklist_size_and_entries() -> None:
    words = common_passwords()
    assert len(words) >= 3000
    assert all(len(word) >= 8 for word in words)
    assert all(word == word.lower() and not word.startswith("#") for word in words)
    assert {"password1234", "qwertyuiop", "iloveyou123"} <= words


def test_blocklist_is_loaded_once() -> None:
    assert common_passwords() is common_passwords()


def test_custom_blocklist_replaces_the_packaged_one() -> None:
    validate = not_common(["Tokenward-Rocks"])
    assert validate("tokenward-rocks", NO_CONTEXT) == TOO_COMMON
    assert validate("password1234", NO_CONTEXT) is None


@pytest.mark.parametrize(
    ("password", "context", "expected"),
    [
        ("alice@example.com!", PasswordContext(email="alice@example.com"), CONTAINS_EMAIL),
        ("xxALICE@EXAMPLE.COMxx", PasswordContext(email=" Alice@Example.com "), CONTAINS_EMAIL),
        ("alice2025!", PasswordContext(email="alice@example.com"), CONTAINS_EMAIL_NAME),
        ("my-Alice-secret", PasswordContext(email="alice@example.com"), CONTAINS_EMAIL_NAME),
        ("bob-is-my-name!", PasswordContext(email="bob@example.com"), None),  # local part < 4
        ("Tokenward2025!", PasswordContext(app_name="tokenward"), CONTAINS_APP_NAME),
        ("iuseacmecorp2025", PasswordContext(app_name="Acme Corp"), CONTAINS_APP_NAME),
        ("i use acme corp!", PasswordContext(app_name="Acme Corp"), CONTAINS_APP_NAME),
        ("zebra-xylophone", PasswordContext(email="alice@example.com", app_name="Acme"), None),
        ("axe-throwing-99", PasswordContext(app_name="Axe"), None),  # app name < 4
    ],
)
def test_context_words_refused(
    password: str, context: PasswordContext, expected: str | None
) -> None:
    assert check(password, context) == expected


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("ééééééé", TOO_SHORT),  # 7 code points, 14 UTF-8 bytes
        ("éèêëēėęz", None),  # 8 code points
        ("🔑🔒🗝️🚪🏠", TOO_SHORT),  # 6 code points (one variation selector), 22 bytes
        ("密码是很长的一句话", None),  # 9 code points
        ("ж" * 256, None),  # 512 bytes, 256 code points
        ("ж" * 257, TOO_LONG),
    ],
)
def test_unicode_is_counted_in_code_points(password: str, expected: str | None) -> None:
    assert check(password) == expected


def test_password_is_not_normalised_or_truncated() -> None:
    seen: list[str] = []

    def spy(password: str, context: PasswordContext) -> str | None:
        seen.append(password)
        return None

    password = "  Cafe\u0301 with ﬁ ligature  "  # decomposed é, ligature, surrounding spaces
    assert first_error(password, NO_CONTEXT, (*DEFAULTS, spy)) is None
    assert seen == [password]


def test_unencodable_password_refused_with_a_message() -> None:
    assert check("abcdefgh\ud800xyz") == NOT_ENCODABLE


def test_custom_validators_replace_the_defaults() -> None:
    def no_tokenward(password: str, context: PasswordContext) -> str | None:
        return "No tokenward please" if "tokenward" in password else None

    validators: tuple[PasswordValidator, ...] = (max_length(32), min_length(4), no_tokenward)
    assert first_error("abcd", NO_CONTEXT, validators) is None  # shorter than the default 8
    assert first_error("password", NO_CONTEXT, validators) is None  # no blocklist
    assert first_error("tokenward!", NO_CONTEXT, validators) == "No tokenward please"
    assert first_error("abc", NO_CONTEXT, validators) == (
        "Password must contain at least 4 characters"
    )
    assert first_error("anything at all", NO_CONTEXT, ()) is None


def test_first_error_stops_at_the_first_refusal() -> None:
    calls: list[str] = []

    def refuse(name: str) -> PasswordValidator:
        def validate(password: str, context: PasswordContext) -> str | None:
            calls.append(name)
            return name

        return validate

    assert first_error("x", NO_CONTEXT, (refuse("first"), refuse("second"))) == "first"
    assert calls == ["first"]


def test_default_validators_start_with_the_length_cap() -> None:
    first = default_validators(common_passwords(), max_len=300)[0]
    assert first("a" * 301, NO_CONTEXT) == "Password must be at most 300 characters"
    assert first("a", NO_CONTEXT) is None
    assert password_policy.DEFAULT_MIN_LENGTH == 8
    assert password_policy.DEFAULT_MAX_LENGTH == 256
