"""Passwordless codes as SuperTokens' core makes them, computed here independently."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tokenward.recipes.passwordless import rules
from tokenward.shared.phone_numbers import normalise_phone


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_pl_01_pre_auth_session_id_is_the_sha256_of_the_device_id_bytes() -> None:
    device = rules.new_device()
    raw = base64.b64decode(device.device_id, validate=True)
    assert len(raw) == 32 and len(device.link_code_salt) == 32
    assert device.pre_auth_session_id == b64url(hashlib.sha256(raw).digest())


def test_pl_02_the_link_code_is_the_hmac_of_the_typed_code_so_both_are_one_code() -> None:
    device = rules.new_device()
    code = rules.code_for(device.device_id, device.link_code_salt, "123456")
    key = base64.b64decode(device.device_id) + device.link_code_salt
    expected = hmac.new(key, b"123456", hashlib.sha256).digest()
    assert code.link_code == b64url(expected)
    assert code.link_code_hash == b64url(hashlib.sha256(expected).digest())
    assert rules.link_code_hash(code.link_code) == code.link_code_hash, "link and code agree"
    other = rules.code_for(device.device_id, device.link_code_salt, "123457")
    assert other.link_code_hash != code.link_code_hash


def test_pl_03_link_codes_differ_between_devices_for_the_same_typed_code() -> None:
    a, b = rules.new_device(), rules.new_device()
    assert (
        rules.code_for(a.device_id, a.link_code_salt, "000000").link_code
        != rules.code_for(b.device_id, b.link_code_salt, "000000").link_code
    )


@pytest.mark.parametrize("bad", ["", "x", "AAAA", "a" * 43, "!" * 43, "é" * 43])
def test_pl_04_a_malformed_link_code_has_no_hash(bad: str) -> None:
    assert rules.link_code_hash(bad) is None


@pytest.mark.parametrize("bad", ["", "AAAA", base64.b64encode(b"x" * 31).decode(), "%%%%"])
def test_pl_05_a_malformed_device_id_is_refused(bad: str) -> None:
    with pytest.raises(rules.InvalidDeviceId):
        rules.pre_auth_session_id(bad)


def test_pl_06_user_input_codes_are_six_digits() -> None:
    codes = {rules.new_user_input_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150, "random, not fixed"


def test_pl_07_the_fifth_wrong_code_restarts_the_flow() -> None:
    assert [rules.wrong_code(n, 5) for n in range(5)] == [
        rules.WrongCode(1, False),
        rules.WrongCode(2, False),
        rules.WrongCode(3, False),
        rules.WrongCode(4, False),
        rules.WrongCode(5, True),
    ]


def test_pl_08_magic_link_in_supertokens_format_keeps_the_code_in_the_fragment() -> None:
    link = rules.magic_link("https://app.example.com/auth", "PRE", "public", "LINK")
    assert link == "https://app.example.com/auth/verify?preAuthSessionId=PRE&tenantId=public#LINK"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+1 415 555 0100", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        (" +33 6 12 34 56 78 ", "+33612345678"),
        ("+14155550100", "+14155550100"),
        ("4155550100", None),  # no country code: no region to assume
        ("+1 000", None),
        ("call me", None),
        ("+" + "1" * 100, None),
        ("\x00+14155550100", "+14155550100"),  # what is stored is clean E.164
    ],
)
def test_pl_09_phone_numbers_are_normalised_to_e164(raw: str, e164: str | None) -> None:
    assert normalise_phone(raw) == e164


def test_pl_10_flow_types_say_what_a_message_carries() -> None:
    code = rules.FlowType.USER_INPUT_CODE
    assert code.sends_code and not code.sends_link
    assert rules.FlowType.MAGIC_LINK.sends_link and not rules.FlowType.MAGIC_LINK.sends_code
    both = rules.FlowType.USER_INPUT_CODE_AND_MAGIC_LINK
    assert both.sends_code and both.sends_link
