"""Multi-factor auth rules: next factors, the setup check, the claim's times (seconds and
milliseconds), step-up, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tokenward.recipes.multifactorauth import rules
from tokenward.recipes.multifactorauth.rules import (
    NOT_IN_NEXT,
    NOT_SATISFIED,
    NOT_SATISFIED_FOR_SETUP,
    CompletedRecently,
    MfaClaim,
    MfaSatisfied,
)

NOW_MS = 1_700_000_000_000
NOW_S = NOW_MS // 1000


# --- next_factors ------------------------------------------------------------------------------


def test_no_requirements_means_nothing_next() -> None:
    assert rules.next_factors({}, []) == []


def test_an_empty_one_of_is_satisfied() -> None:
    assert rules.next_factors({}, [{"oneOf": []}]) == []
    assert rules.next_factors({}, [{"oneOf": []}, "totp"]) == ["totp"]


def test_a_string_item() -> None:
    assert rules.next_factors({"emailpassword": 1}, ["totp"]) == ["totp"]
    assert rules.next_factors({"totp": 1}, ["totp"]) == []


def test_one_of_lists_all_options_until_one_is_done() -> None:
    reqs = [{"oneOf": ["totp", "otp-email"]}]
    assert rules.next_factors({"emailpassword": 1}, reqs) == ["totp", "otp-email"]
    assert rules.next_factors({"otp-email": 1}, reqs) == []


def test_all_of_in_any_order_lists_the_missing_ones() -> None:
    reqs = [{"allOfInAnyOrder": ["totp", "otp-email", "otp-phone"]}]
    assert rules.next_factors({}, reqs) == ["totp", "otp-email", "otp-phone"]
    assert rules.next_factors({"otp-email": 1}, reqs) == ["totp", "otp-phone"]
    assert rules.next_factors({"otp-email": 1, "totp": 2, "otp-phone": 3}, reqs) == []


def test_the_first_unsatisfied_item_wins() -> None:
    reqs: list[rules.Requirement] = [
        "emailpassword",
        {"oneOf": ["totp", "otp-email"]},
        {"allOfInAnyOrder": ["otp-phone"]},
    ]
    assert rules.next_factors({}, reqs) == ["emailpassword"]
    assert rules.next_factors({"emailpassword": 1}, reqs) == ["totp", "otp-email"]
    assert rules.next_factors({"emailpassword": 1, "totp": 1}, reqs) == ["otp-phone"]


def test_duplicates_are_listed_once() -> None:
    assert rules.next_factors({}, [{"oneOf": ["totp", "totp"]}]) == ["totp"]


def test_a_recovery_code_counts_as_a_second_factor_only() -> None:
    done = {"emailpassword": 1, "recovery-code": 2}
    assert rules.next_factors(done, [{"oneOf": ["totp"]}]) == []
    assert rules.next_factors({"recovery-code": 2}, ["emailpassword"]) == ["emailpassword"]
    assert rules.next_factors({"recovery-code": 2}, ["thirdparty"]) == ["thirdparty"]


def test_a_recovery_code_stands_in_for_one_factor_only() -> None:
    code = {"emailpassword": 1, "recovery-code": 2}
    both = [{"allOfInAnyOrder": ["totp", "otp-email"]}]
    assert rules.next_factors(code, both) == ["totp", "otp-email"]
    assert rules.next_factors({**code, "totp": 3}, both) == []
    assert rules.next_factors(code, ["totp", "otp-email"]) == ["otp-email"]
    assert rules.next_factors(code, [{"oneOf": ["totp", "otp-phone"]}]) == []


def test_default_requirements() -> None:
    assert rules.default_requirements([], []) == []
    assert rules.default_requirements(["totp"], ["otp-email", "totp"]) == [
        {"oneOf": ["totp", "otp-email"]}
    ]


def test_check_requirements() -> None:
    good = ["totp", {"oneOf": ["totp"]}, {"allOfInAnyOrder": []}]
    assert rules.check_requirements(good) == good
    for bad in ["", 3, {"oneOf": "totp"}, {"anyOf": ["totp"]}, {"oneOf": [""]}, {}]:
        with pytest.raises(ValueError):
            rules.check_requirements([bad])


# --- setup_refusal -----------------------------------------------------------------------------


def test_setup_is_free_once_v_is_true() -> None:
    claim = MfaClaim({"emailpassword": NOW_S}, True)
    assert rules.setup_refusal(claim, ["totp"], ["totp"], "otp-email") is None


def test_setup_refused_when_a_pending_factor_is_already_set_up() -> None:
    claim = MfaClaim({"emailpassword": NOW_S}, False)
    reason = rules.setup_refusal(claim, [{"oneOf": ["totp"]}], ["emailpassword", "totp"], "totp")
    assert reason == NOT_SATISFIED_FOR_SETUP


def test_setup_refused_for_a_factor_outside_the_next_set() -> None:
    claim = MfaClaim({"emailpassword": NOW_S}, False)
    assert rules.setup_refusal(claim, ["totp"], ["emailpassword"], "otp-email") == NOT_IN_NEXT


def test_setup_allowed_for_a_next_factor_not_set_up() -> None:
    claim = MfaClaim({"emailpassword": NOW_S}, False)
    reqs = [{"oneOf": ["totp", "otp-email"]}]
    assert rules.setup_refusal(claim, reqs, ["emailpassword"], "totp") is None
    assert rules.setup_refusal(claim, reqs, ["emailpassword"], "otp-email") is None


def test_the_set_up_reason_comes_before_the_not_in_next_reason() -> None:
    claim = MfaClaim({}, False)
    assert rules.setup_refusal(claim, ["totp"], ["totp"], "otp-email") == NOT_SATISFIED_FOR_SETUP


# --- the claim ---------------------------------------------------------------------------------


def test_with_factor_stamps_seconds_and_merges() -> None:
    first = rules.with_factor(None, "emailpassword", NOW_MS + 999, ["totp"])
    assert first == MfaClaim({"emailpassword": NOW_S}, False)
    second = rules.with_factor(first, "totp", NOW_MS + 30_000, ["totp"])
    assert second == MfaClaim({"emailpassword": NOW_S, "totp": NOW_S + 30}, True)
    assert second.entry() == {"c": {"emailpassword": NOW_S, "totp": NOW_S + 30}, "v": True}


def test_with_factor_overwrites_an_older_time() -> None:
    claim = MfaClaim({"totp": 5}, True)
    assert rules.with_factor(claim, "totp", NOW_MS, []).c == {"totp": NOW_S}


def test_rebuilt_claim_keeps_milliseconds() -> None:
    rebuilt = rules.rebuilt_claim("emailpassword", NOW_MS)
    assert rebuilt == MfaClaim({"emailpassword": NOW_MS}, False)
    assert rules.recomputed(rebuilt, []) == MfaClaim({"emailpassword": NOW_MS}, True)
    assert rules.recomputed(rebuilt, ["totp"]).v is False


def test_completed_at_ms_reads_both_units() -> None:
    assert rules.completed_at_ms(NOW_S) == NOW_MS
    assert rules.completed_at_ms(NOW_MS) == NOW_MS


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"st-mfa": None},
        {"st-mfa": {"c": {}, "v": "true"}},
        {"st-mfa": {"c": [], "v": True}},
        {"st-mfa": {"v": True}},
    ],
)
def test_a_malformed_claim_is_no_claim(payload: dict[str, object]) -> None:
    assert rules.claim_of(payload) is None
    assert MfaSatisfied().validate(payload, NOW_MS) == {"message": NOT_SATISFIED}


def test_claim_of_drops_non_integer_times() -> None:
    payload = {"st-mfa": {"c": {"a": 1, "b": 1.5, "c": True, "d": "1"}, "v": False}}
    assert rules.claim_of(payload) == MfaClaim({"a": 1}, False)


def test_mfa_satisfied_reads_v() -> None:
    assert MfaSatisfied().validate({"st-mfa": {"c": {}, "v": True}}, NOW_MS) is None
    failure = MfaSatisfied().validate({"st-mfa": {"c": {}, "v": False}}, NOW_MS)
    assert failure == {"message": NOT_SATISFIED}


def test_factor_of() -> None:
    assert rules.factor_of("emailpassword", email=True, by_link=False) == "emailpassword"
    assert rules.factor_of("passwordless", email=True, by_link=False) == "otp-email"
    assert rules.factor_of("passwordless", email=False, by_link=True) == "link-phone"


# --- step-up -----------------------------------------------------------------------------------


def payload(**completed: int) -> dict[str, object]:
    return {"st-mfa": {"c": completed, "v": True}}


def test_completed_recently_in_seconds() -> None:
    check = CompletedRecently(("totp",), 60)
    assert check.validate(payload(totp=NOW_S - 60), NOW_MS) is None
    failure = check.validate(payload(totp=NOW_S - 61), NOW_MS)
    assert failure == {
        "message": "Factor validation failed: totp not completed in the last 60 seconds",
        "factorIds": ["totp"],
        "maxAgeInSeconds": 60,
    }


def test_completed_recently_in_milliseconds() -> None:
    check = CompletedRecently(("emailpassword",), 60)
    assert check.validate(payload(emailpassword=NOW_MS - 60_000), NOW_MS) is None
    assert check.validate(payload(emailpassword=NOW_MS - 60_001), NOW_MS) is not None


def test_completed_recently_any_of_several() -> None:
    check = CompletedRecently(("totp", "otp-email"), 60)
    assert check.validate(payload(totp=NOW_S - 600, **{"otp-email": NOW_S}), NOW_MS) is None
    failure = check.validate(payload(totp=NOW_S - 600), NOW_MS)
    assert failure is not None
    assert failure["message"].startswith("Factor validation failed: totp or otp-email")


def test_completed_recently_accepts_a_recent_recovery_code_for_a_second_factor() -> None:
    check = CompletedRecently(("totp",), 60)
    assert check.validate(payload(**{"recovery-code": NOW_S - 5}), NOW_MS) is None
    assert check.validate(payload(**{"recovery-code": NOW_S - 61}), NOW_MS) is not None
    first_factor = CompletedRecently(("emailpassword",), 60)
    assert first_factor.validate(payload(**{"recovery-code": NOW_S}), NOW_MS) is not None


def test_completed_recently_without_a_claim_fails() -> None:
    assert CompletedRecently(("totp",), 60).validate({}, NOW_MS) is not None


# --- recovery codes ----------------------------------------------------------------------------


def test_recovery_code_format() -> None:
    code = rules.recovery_code(bytes(range(12)))
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert all(c in rules.RECOVERY_ALPHABET for c in code.replace("-", ""))
    assert code == "abcd-efgh-jkmn"
    with pytest.raises(ValueError):
        rules.recovery_code(b"x" * 11)


def test_the_alphabet_has_no_look_alikes() -> None:
    assert not set("01ilo") & set(rules.RECOVERY_ALPHABET)
    assert len(set(rules.RECOVERY_ALPHABET)) == 31


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("abcd-efgh-jkmn", "abcdefghjkmn"),
        ("ABCD EFGH JKMN", "abcdefghjkmn"),
        ("  abcdefghjkmn ", "abcdefghjkmn"),
        ("abcd-efgh-jkm", None),
        ("abcd-efgh-jkmnp", None),
        ("abcd-efgh-jkm0", None),
        ("abcd_efgh_jkmn", None),
        ("", None),
    ],
)
def test_normalise_recovery_code(typed: str, normal: str | None) -> None:
    assert rules.normalise_recovery_code(typed) == normal


def test_recovery_code_hash_is_keyed_by_the_user_and_ignores_formatting() -> None:
    h = rules.recovery_code_hash("abcd-efgh-jkmn", "u1")
    assert h == hmac.new(b"u1", b"abcdefghjkmn", hashlib.sha256).hexdigest()
    assert rules.recovery_code_hash("ABCD EFGH JKMN", "u1") == h
    assert rules.recovery_code_hash("abcd-efgh-jkmn", "u2") != h
    assert len(h) == 64
