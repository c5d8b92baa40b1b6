"""Session claims: typed values in the access-token payload, and validators over them.

A claim lives at a top-level payload key as ``{"v": value, "t": fetched_at_ms}``, the shape
SuperTokens uses for ``st-ev`` (email verified), ``st-role``, ``st-perm`` and ``st-mfa``;
the frontends read the same shape to decide what to show. Validation failures are reported
in the SDKs' ``claimValidationErrors`` format because the frontends parse it after a 403.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ClaimFailure = dict[str, Any]
"""The ``reason`` object of one ``claimValidationErrors`` entry."""


class ClaimValidator(Protocol):
    """Anything that can judge one claim in a payload."""

    @property
    def id(self) -> str:
        """The ``id`` reported to the frontend (by default the claim key)."""
        ...

    def validate(self, payload: Mapping[str, Any], now_ms: int) -> ClaimFailure | None:
        """``None`` when satisfied, else the reason the frontend will see."""
        ...


def claim_entry(value: Any, now_ms: int) -> dict[str, Any]:
    """The payload value for a freshly fetched claim."""
    return {"v": value, "t": now_ms}


def _entry(payload: Mapping[str, Any], key: str) -> tuple[Any, Any]:
    """``(value, fetched_at_ms)``; a missing or misshapen entry reads as ``(None, None)``."""
    entry = payload.get(key)
    if not isinstance(entry, dict):
        return None, None
    return entry.get("v"), entry.get("t")


def _expired(fetched_at_ms: Any, now_ms: int, max_age_s: int | None) -> ClaimFailure | None:
    if max_age_s is None:
        return None
    if type(fetched_at_ms) is not int:
        # No usable timestamp means we cannot show the value is fresh.
        return {"message": "expired", "ageInSeconds": None, "maxAgeInSeconds": max_age_s}
    age_s = (now_ms - fetched_at_ms) / 1000
    if age_s > max_age_s:
        return {"message": "expired", "ageInSeconds": age_s, "maxAgeInSeconds": max_age_s}
    return None


@dataclass(frozen=True, slots=True)
class HasValue:
    """The claim's value must equal ``expected`` (e.g. ``st-ev`` is ``true``)."""

    id: str
    key: str
    expected: Any
    max_age_s: int | None = None

    def validate(self, payload: Mapping[str, Any], now_ms: int) -> ClaimFailure | None:
        value, fetched_at_ms = _entry(payload, self.key)
        if value is None:
            return {
                "message": "value does not exist",
                "expectedValue": self.expected,
                "actualValue": None,
            }
        expired = _expired(fetched_at_ms, now_ms, self.max_age_s)
        if expired is not None:
            return expired
        # type() guards against True == 1 passing as equal values.
        if type(value) is not type(self.expected) or value != self.expected:
            return {"message": "wrong value", "expectedValue": self.expected, "actualValue": value}
        return None


@dataclass(frozen=True, slots=True)
class Includes:
    """The claim's array must contain every item of ``expected`` (e.g. a role)."""

    id: str
    key: str
    expected: tuple[Any, ...]
    report_list: bool
    """Report ``expectedToInclude`` as a list (``includes_all``) or as the single item."""
    max_age_s: int | None = None

    def validate(self, payload: Mapping[str, Any], now_ms: int) -> ClaimFailure | None:
        value, fetched_at_ms = _entry(payload, self.key)
        expected = list(self.expected) if self.report_list else self.expected[0]
        if value is None:
            return {
                "message": "value does not exist",
                "expectedToInclude": expected,
                "actualValue": None,
            }
        expired = _expired(fetched_at_ms, now_ms, self.max_age_s)
        if expired is not None:
            return expired
        if not isinstance(value, list) or any(item not in value for item in self.expected):
            return {"message": "wrong value", "expectedToInclude": expected, "actualValue": value}
        return None


@dataclass(frozen=True, slots=True)
class BooleanClaim:
    """A true/false claim such as email verification (``st-ev``)."""

    key: str

    def entry(self, value: bool, now_ms: int) -> dict[str, Any]:
        return claim_entry(value, now_ms)

    def value(self, payload: Mapping[str, Any]) -> bool | None:
        value, _ = _entry(payload, self.key)
        return value if isinstance(value, bool) else None

    def has_value(
        self, expected: bool, *, max_age_s: int | None = None, validator_id: str | None = None
    ) -> HasValue:
        return HasValue(validator_id or self.key, self.key, expected, max_age_s)


@dataclass(frozen=True, slots=True)
class PrimitiveArrayClaim:
    """A list of JSON primitives, such as roles (``st-role``) or permissions (``st-perm``)."""

    key: str

    def entry(self, value: Sequence[Any], now_ms: int) -> dict[str, Any]:
        return claim_entry(list(value), now_ms)

    def value(self, payload: Mapping[str, Any]) -> list[Any] | None:
        value, _ = _entry(payload, self.key)
        return value if isinstance(value, list) else None

    def includes(
        self, item: Any, *, max_age_s: int | None = None, validator_id: str | None = None
    ) -> Includes:
        return Includes(validator_id or self.key, self.key, (item,), False, max_age_s)

    def includes_all(
        self, items: Iterable[Any], *, max_age_s: int | None = None, validator_id: str | None = None
    ) -> Includes:
        return Includes(validator_id or self.key, self.key, tuple(items), True, max_age_s)


def validate_all(
    payload: Mapping[str, Any], validators: Iterable[ClaimValidator], now_ms: int
) -> list[dict[str, Any]]:
    """Every failure, in validator order: the body's ``claimValidationErrors`` list.

    Empty means the session may proceed; otherwise the caller answers 403 ``invalid claim``.
    """
    errors: list[dict[str, Any]] = []
    for validator in validators:
        reason = validator.validate(payload, now_ms)
        if reason is not None:
            errors.append({"id": validator.id, "reason": reason})
    return errors
