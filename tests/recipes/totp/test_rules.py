"""TOTP rules: codes within the skew, malformed codes, device names and the otpauth URI."""

from __future__ import annotations

import pyotp
import pytest

from tokenward.recipes.totp import rules
from tokenward.recipes.totp.rules import AttemptBudget, CodeShape

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 20 bytes, as tokenward makes them
SHORT = "JBSWY3DPEHPK3PXP"  # 10 bytes: importable, and pyotp's default refuses it
SHAPE = CodeShape()
NOW_S = 1_700_000_000  # step 56_666_666 (a multiple of 30 plus 20 s)
STEP = NOW_S // 30


def code_for_step(step: int, shape: CodeShape = SHAPE, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret, digits=shape.digits, interval=shape.period).generate_otp(step)


def test_the_current_code_matches_its_step() -> None:
    code = rules.code_at(SECRET, NOW_S, SHAPE)
    assert code == pyotp.TOTP(SECRET).at(NOW_S)
    assert rules.matching_step(SECRET, code, NOW_S, SHAPE) == STEP


def test_an_80_bit_imported_secret_works() -> None:
    """valid_secret accepts 10 bytes; pyotp's 112-bit minimum must not turn them into a 500."""
    assert rules.valid_secret(SHORT)
    code = rules.code_at(SHORT, NOW_S, SHAPE)
    assert rules.matching_step(SHORT, code, NOW_S, SHAPE) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_either_side_is_accepted_with_skew_1(offset: int) -> None:
    code = code_for_step(STEP + offset)
    assert rules.matching_step(SECRET, code, NOW_S, SHAPE) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_two_steps_away_is_refused_with_skew_1(offset: int) -> None:
    """MFA-01: a code from t−2 steps is refused."""
    code = code_for_step(STEP + offset)
    assert rules.matching_step(SECRET, code, NOW_S, SHAPE) is None


def test_skew_0_accepts_only_the_current_step() -> None:
    shape = CodeShape(skew=0)
    assert rules.matching_step(SECRET, code_for_step(STEP - 1), NOW_S, shape) is None
    assert rules.matching_step(SECRET, code_for_step(STEP), NOW_S, shape) == STEP


def test_a_larger_skew_widens_the_window() -> None:
    shape = CodeShape(skew=2)
    assert rules.matching_step(SECRET, code_for_step(STEP - 2), NOW_S, shape) == STEP - 2
    assert rules.matching_step(SECRET, code_for_step(STEP + 3), NOW_S, shape) is None


def test_other_periods_and_digits() -> None:
    shape = CodeShape(period=60, digits=8, skew=1)
    code = pyotp.TOTP(SECRET, digits=8, interval=60).at(NOW_S)
    assert len(code) == 8
    assert rules.matching_step(SECRET, code, NOW_S, shape) == NOW_S // 60
    assert rules.matching_step(SECRET, code[:6], NOW_S, shape) is None


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "1234567",
        "12345a",
        " 123456",
        "١٢٣٤٥٦",  # Arabic-Indic digits: isdigit() but not ASCII
        "12 456",
    ],
)
def test_malformed_codes_never_match(typed: str) -> None:
    assert rules.matching_step(SECRET, typed, NOW_S, SHAPE) is None


def test_a_wrong_code_of_the_right_length_is_refused() -> None:
    right = rules.code_at(SECRET, NOW_S, SHAPE)
    window = {code_for_step(STEP + d) for d in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    assert wrong != right
    assert rules.matching_step(SECRET, wrong, NOW_S, SHAPE) is None


def test_the_earliest_matching_step_wins_when_codes_collide() -> None:
    """All candidates are computed (constant work); the first match is returned."""
    code = code_for_step(STEP)
    assert rules.matching_step(SECRET, code, NOW_S, CodeShape(skew=5)) is not None


def test_secret_from_20_bytes_is_32_base32_characters() -> None:
    secret = rules.secret_from(bytes(range(20)))
    assert len(secret) == 32 and "=" not in secret
    assert rules.valid_secret(secret)
    with pytest.raises(ValueError):
        rules.secret_from(b"short")


@pytest.mark.parametrize(
    ("secret", "valid"),
    [
        (SHORT, True),  # 10 bytes
        ("jbsw y3dp ehpk 3pxp", True),  # spaces and lower case, as apps show it
        ("JBSWY3DPEHPK3P", False),  # under 10 bytes
        ("not base32!", False),
        ("", False),
    ],
)
def test_valid_secret(secret: str, valid: bool) -> None:
    assert rules.valid_secret(secret) is valid


def test_default_device_name_counts_from_the_verified_devices() -> None:
    assert rules.default_device_name(set(), 0) == "TOTP Device 0"
    assert rules.default_device_name({"TOTP Device 0"}, 1) == "TOTP Device 1"
    assert rules.default_device_name({"TOTP Device 1", "TOTP Device 2"}, 1) == "TOTP Device 3"
    assert rules.default_device_name({"TOTP Device 0"}, 2) == "TOTP Device 2"


def test_otpauth_uri_as_supertokens_builds_it() -> None:
    uri = rules.otpauth_uri(SHORT, issuer="Demo App", account="a@b.com", shape=SHAPE)
    assert uri == (
        "otpauth://totp/Demo%20App:a%40b.com?secret=JBSWY3DPEHPK3PXP"
        "&issuer=Demo%20App&digits=6&period=30"
    )


def test_otpauth_uri_without_an_account_has_no_colon() -> None:
    uri = rules.otpauth_uri(SHORT, issuer="Demo", account=None, shape=CodeShape(period=60))
    assert uri == "otpauth://totp/Demo?secret=JBSWY3DPEHPK3PXP&issuer=Demo&digits=6&period=60"


def test_otpauth_uri_quotes_what_would_break_the_label_or_query() -> None:
    uri = rules.otpauth_uri(SECRET, issuer="A&B/C:D?", account="x:y/z#&", shape=SHAPE)
    label, _, query = uri.removeprefix("otpauth://totp/").partition("?")
    assert label == "A%26B%2FC%3AD%3F:x%3Ay%2Fz%23%26"
    assert query.split("&")[1] == "issuer=A%26B%2FC%3AD%3F"
    assert query.count("&") == 3


def test_retry_after_counts_down_and_never_below_zero() -> None:
    budget = AttemptBudget(max_attempts=5, cooldown_ms=900_000)
    assert rules.retry_after_ms(1_000, 1_000, budget) == 900_000
    assert rules.retry_after_ms(1_000, 900_999, budget) == 1
    assert rules.retry_after_ms(1_000, 2_000_000, budget) == 0
