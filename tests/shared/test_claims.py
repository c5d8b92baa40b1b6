"""Claim values in the payload and their validation errors, in the SDKs' shapes."""

from __future__ import annotations

from typing import Any

from tokenward.shared.claims import (
    BooleanClaim,
    ClaimValidator,
    PrimitiveArrayClaim,
    claim_entry,
    validate_all,
)

NOW = 1_700_000_000_000
EMAIL_VERIFIED = BooleanClaim("st-ev")
ROLES = PrimitiveArrayClaim("st-role")


def test_entry_shape() -> None:
    assert claim_entry(True, NOW) == {"v": True, "t": NOW}
    assert EMAIL_VERIFIED.entry(False, NOW) == {"v": False, "t": NOW}
    assert ROLES.entry(("admin", "user"), NOW) == {"v": ["admin", "user"], "t": NOW}


def test_reading_values() -> None:
    payload = {"st-ev": {"v": True, "t": NOW}, "st-role": {"v": ["a"], "t": NOW}}
    assert EMAIL_VERIFIED.value(payload) is True
    assert ROLES.value(payload) == ["a"]
    assert EMAIL_VERIFIED.value({}) is None
    assert EMAIL_VERIFIED.value({"st-ev": True}) is None  # not the {"v","t"} shape
    assert ROLES.value({"st-role": {"v": "a"}}) is None


def test_has_value() -> None:
    validator = EMAIL_VERIFIED.has_value(True)
    assert validator.id == "st-ev"
    assert validator.validate({"st-ev": {"v": True, "t": NOW}}, NOW) is None
    assert validator.validate({"st-ev": {"v": False, "t": NOW}}, NOW) == {
        "message": "wrong value",
        "expectedValue": True,
        "actualValue": False,
    }
    assert validator.validate({}, NOW) == {
        "message": "value does not exist",
        "expectedValue": True,
        "actualValue": None,
    }
    assert validator.validate({"st-ev": "garbage"}, NOW) is not None
    # 1 == True in Python, but not in JSON.
    assert validator.validate({"st-ev": {"v": 1, "t": NOW}}, NOW) is not None


def test_max_age() -> None:
    validator = EMAIL_VERIFIED.has_value(True, max_age_s=300)
    fresh = {"st-ev": {"v": True, "t": NOW - 300_000}}
    stale = {"st-ev": {"v": True, "t": NOW - 301_000}}
    assert validator.validate(fresh, NOW) is None
    assert validator.validate(stale, NOW) == {
        "message": "expired",
        "ageInSeconds": 301.0,
        "maxAgeInSeconds": 300,
    }
    no_time = {"st-ev": {"v": True}}
    failure = validator.validate(no_time, NOW)
    assert failure is not None and failure["message"] == "expired"


def test_includes() -> None:
    validator = ROLES.includes("admin")
    assert validator.validate({"st-role": {"v": ["user", "admin"], "t": NOW}}, NOW) is None
    assert validator.validate({"st-role": {"v": ["user"], "t": NOW}}, NOW) == {
        "message": "wrong value",
        "expectedToInclude": "admin",
        "actualValue": ["user"],
    }
    assert validator.validate({}, NOW) == {
        "message": "value does not exist",
        "expectedToInclude": "admin",
        "actualValue": None,
    }
    assert validator.validate({"st-role": {"v": "admin", "t": NOW}}, NOW) is not None


def test_includes_all() -> None:
    validator = ROLES.includes_all(["a", "b"], validator_id="roles-ab")
    assert validator.id == "roles-ab"
    assert validator.validate({"st-role": {"v": ["b", "c", "a"], "t": NOW}}, NOW) is None
    assert validator.validate({"st-role": {"v": ["a"], "t": NOW}}, NOW) == {
        "message": "wrong value",
        "expectedToInclude": ["a", "b"],
        "actualValue": ["a"],
    }


def test_validate_all_produces_claim_validation_errors() -> None:
    payload: dict[str, Any] = {
        "st-ev": {"v": False, "t": NOW},
        "st-role": {"v": ["admin"], "t": NOW},
    }
    validators: list[ClaimValidator] = [
        EMAIL_VERIFIED.has_value(True),
        ROLES.includes("admin"),
        PrimitiveArrayClaim("st-perm").includes("write"),
    ]
    assert validate_all(payload, validators, NOW) == [
        {
            "id": "st-ev",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        },
        {
            "id": "st-perm",
            "reason": {
                "message": "value does not exist",
                "expectedToInclude": "write",
                "actualValue": None,
            },
        },
    ]
    assert validate_all(payload, [], NOW) == []


class AlwaysFails:
    """A hand-written validator satisfies the protocol too."""

    id = "custom"

    def validate(self, payload: Any, now_ms: int) -> dict[str, Any] | None:
        return {"message": "nope"}


def test_custom_validators() -> None:
    assert validate_all({}, [AlwaysFails()], NOW) == [
        {"id": "custom", "reason": {"message": "nope"}}
    ]
