"""Multi-factor authentication decisions: factors, requirements, the ``st-mfa`` claim and its
validators, and recovery codes. Pure: time and randomness come in as arguments.

Facts from SuperTokens (reference §4.4; supertokens-python 0.31.4 ``multifactorauth``):

- the claim is ``{"st-mfa": {"c": {factor: time}, "v": bool}}``, not wrapped in ``{v, t}``;
  ``c`` is merged on update; a factor completed in a request is stamped in epoch **seconds**
  (the sign-in's first factor too), but a claim rebuilt for a session that lacks it stamps the
  first factor with the session's creation time in **milliseconds** (both SDKs do this);
- a requirement list holds factor ids, ``{"oneOf": [...]}`` and ``{"allOfInAnyOrder": [...]}``;
  the next factors are those of the first item not yet satisfied (an empty ``oneOf`` is
  satisfied); ``v`` is true when there are none;
- setting up a factor is allowed when ``v`` is true, or when the factor is among the next ones
  and none of the next ones is set up already (else the user could dodge the factor they have).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tokenward.shared.claims import ClaimFailure

RECIPE_ID = "multifactorauth"
CLAIM_KEY = "st-mfa"


class FactorIds:
    EMAILPASSWORD = "emailpassword"
    OTP_EMAIL = "otp-email"
    OTP_PHONE = "otp-phone"
    LINK_EMAIL = "link-email"
    LINK_PHONE = "link-phone"
    THIRDPARTY = "thirdparty"
    TOTP = "totp"
    WEBAUTHN = "webauthn"
    RECOVERY_CODE = "recovery-code"
    """tokenward's own: a one-time recovery code stands in for a lost second factor."""


SECONDARY_FACTORS = (FactorIds.TOTP, FactorIds.OTP_EMAIL, FactorIds.OTP_PHONE)
"""The factors tokenward offers as second factors."""
KNOWN_FACTORS = frozenset(
    v for k, v in vars(FactorIds).items() if not k.startswith("_") and isinstance(v, str)
)

Requirement = str | dict[str, list[str]]
"""A factor id, ``{"oneOf": [...]}`` or ``{"allOfInAnyOrder": [...]}``."""

NOT_SATISFIED = "MFA requirement for auth is not satisfied"
NOT_SATISFIED_FOR_SETUP = (
    "Completed factors in the session does not satisfy the MFA requirements for auth"
)
NOT_IN_NEXT = "Not allowed to setup factor that is not in the next set of unsatisfied factors"


def check_requirements(items: Iterable[Any]) -> list[Requirement]:
    """Requirements from settings, metadata or a hook, checked; ValueError names the fault."""
    checked: list[Requirement] = []
    for item in items:
        if isinstance(item, str) and item:
            checked.append(item)
            continue
        if isinstance(item, dict) and len(item) == 1:
            ((kind, factors),) = item.items()
            if (
                kind in ("oneOf", "allOfInAnyOrder")
                and isinstance(factors, list)
                and all(isinstance(f, str) and f for f in factors)
            ):
                checked.append({kind: list(factors)})
                continue
        raise ValueError(f"not an MFA requirement: {item!r}")
    return checked


def default_requirements(*required: Iterable[str]) -> list[Requirement]:
    """SuperTokens' default: one of the factors any source requires (app, tenant, user)."""
    union = list(dict.fromkeys(f for source in required for f in source))
    return [{"oneOf": union}] if union else []


def next_factors(completed: Mapping[str, Any], requirements: Sequence[Requirement]) -> list[str]:
    """The factors of the first requirement not yet satisfied ([] when all are).

    A recovery code stands in for one second factor, once: it satisfies a requirement that
    one second factor would (a factor id, a ``oneOf``, the last missing factor of an
    ``allOfInAnyOrder``), but never two factors at a time."""
    spare = FactorIds.RECOVERY_CODE in completed
    for item in requirements:
        if isinstance(item, str):
            pending = [] if item in completed else [item]
        elif "oneOf" in item:
            options = item["oneOf"]
            pending = [] if any(f in completed for f in options) else list(options)
        else:
            pending = [f for f in item.get("allOfInAnyOrder", []) if f not in completed]
        if pending and spare and _one_stands_in(item, pending):
            spare, pending = False, []
        if pending:
            return list(dict.fromkeys(pending))
    return []


def _one_stands_in(item: Requirement, pending: list[str]) -> bool:
    if isinstance(item, dict) and "allOfInAnyOrder" in item:
        return len(set(pending)) == 1 and pending[0] in SECONDARY_FACTORS
    return any(f in SECONDARY_FACTORS for f in pending)


def setup_refusal(
    claim: MfaClaim, requirements: Sequence[Requirement], set_up: Iterable[str], factor: str
) -> str | None:
    """Why the session may not set up (or use as a second factor) ``factor``, or None."""
    if claim.v:
        return None
    pending = next_factors(claim.c, requirements)
    if any(f in pending for f in set_up):
        return NOT_SATISFIED_FOR_SETUP
    if pending and factor not in pending:
        return NOT_IN_NEXT
    return None


# --- the claim ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MfaClaim:
    c: dict[str, int]
    v: bool

    def entry(self) -> dict[str, Any]:
        return {"c": dict(self.c), "v": self.v}


def claim_of(payload: Mapping[str, Any]) -> MfaClaim | None:
    value = payload.get(CLAIM_KEY)
    if not isinstance(value, dict):
        return None
    completed, satisfied = value.get("c"), value.get("v")
    if not isinstance(completed, dict) or not isinstance(satisfied, bool):
        return None
    return MfaClaim({k: t for k, t in completed.items() if type(t) is int}, satisfied)


def rebuilt_claim(factor: str, session_created_ms: int) -> MfaClaim:
    """The claim of a session that lacks one: its first factor at the session's creation (in
    milliseconds, as the SDKs rebuild it); ``v`` is for the caller to compute."""
    return MfaClaim({factor: session_created_ms}, False)


def with_factor(
    claim: MfaClaim | None, factor: str, now_ms: int, requirements: Sequence[Requirement]
) -> MfaClaim:
    """The claim after ``factor`` is completed now (epoch seconds, as the SDKs write it): the
    first factor of a new session, or a later one merged into the session's claim."""
    completed = {**(claim.c if claim else {}), factor: now_ms // 1000}
    return MfaClaim(completed, not next_factors(completed, requirements))


def recomputed(claim: MfaClaim, requirements: Sequence[Requirement]) -> MfaClaim:
    return MfaClaim(claim.c, not next_factors(claim.c, requirements))


def completed_at_ms(value: int) -> int:
    """A ``c`` time in milliseconds: the SDKs mix milliseconds (first factor) and seconds
    (later ones); anything below 10^11 is seconds (10^11 ms is 1973, 10^11 s is year 5138)."""
    return value if value >= 100_000_000_000 else value * 1000


def factor_of(recipe_id: str, *, email: bool, by_link: bool) -> str:
    """The factor id a login recipe's proof completes (passwordless: by code or link, email or
    phone): the first factor of a sign-in, or a code's second factor."""
    if recipe_id == "passwordless":
        kind = "link" if by_link else "otp"
        return f"{kind}-{'email' if email else 'phone'}"
    return recipe_id


# --- validators --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MfaSatisfied:
    """The global validator: the session has completed what its sign-in requires.

    A token without the claim fails here; embedded, the claim is rebuilt before validation
    (as SuperTokens' validator refetches it); in remote mode ``PUT /mfa/info`` rebuilds it."""

    id: str = CLAIM_KEY

    def validate(self, payload: Mapping[str, Any], now_ms: int) -> ClaimFailure | None:
        claim = claim_of(payload)
        if claim is None or not claim.v:
            return {"message": NOT_SATISFIED}
        return None


@dataclass(frozen=True, slots=True)
class CompletedRecently:
    """Step-up: one of ``factors`` was completed in this session within ``max_age_s``."""

    factors: tuple[str, ...]
    max_age_s: int
    id: str = CLAIM_KEY

    def validate(self, payload: Mapping[str, Any], now_ms: int) -> ClaimFailure | None:
        claim = claim_of(payload)
        completed = claim.c if claim else {}
        for factor in self.factors:
            at = completed.get(factor)
            if at is None and factor in SECONDARY_FACTORS:
                at = completed.get(FactorIds.RECOVERY_CODE)
            if at is not None and now_ms - completed_at_ms(at) <= self.max_age_s * 1000:
                return None
        return {
            "message": "Factor validation failed: "
            + " or ".join(self.factors)
            + f" not completed in the last {self.max_age_s} seconds",
            "factorIds": list(self.factors),
            "maxAgeInSeconds": self.max_age_s,
        }


# --- recovery codes ----------------------------------------------------------------------------

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: codes are read from paper."""
RECOVERY_CODE_CHARS = 12
"""12 characters of a 31-letter alphabet: 59 bits, shown as ``xxxx-xxxx-xxxx``."""


def recovery_code(random_bytes: bytes) -> str:
    """A code from ``RECOVERY_CODE_CHARS`` random bytes (rejection-free: the bias of
    ``byte % 31`` is under 1/8 bit per character, immaterial for a one-time code)."""
    if len(random_bytes) != RECOVERY_CODE_CHARS:
        raise ValueError(f"a recovery code takes {RECOVERY_CODE_CHARS} random bytes")
    chars = "".join(RECOVERY_ALPHABET[b % len(RECOVERY_ALPHABET)] for b in random_bytes)
    return "-".join(chars[i : i + 4] for i in range(0, RECOVERY_CODE_CHARS, 4))


def normalise_recovery_code(text: str) -> str | None:
    """What the user typed, as stored: lower case, no spaces or dashes; None if impossible."""
    chars = "".join(c for c in text.lower() if c not in " -")
    if len(chars) != RECOVERY_CODE_CHARS or any(c not in RECOVERY_ALPHABET for c in chars):
        return None
    return chars


def recovery_code_hash(code: str, user_id: str) -> str:
    """SHA-256 keyed by the user: codes carry 59 bits, so a fast hash is enough, and the key
    keeps equal codes of two users apart."""
    normalised = normalise_recovery_code(code) or ""
    return hmac.new(user_id.encode(), normalised.encode(), hashlib.sha256).hexdigest()
