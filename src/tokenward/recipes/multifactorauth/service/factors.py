"""Which factors a user has and must complete, and the ``st-mfa`` claim that records them.

What a sign-in requires is one of the second factors any source asks for (SuperTokens' default,
``[{"oneOf": [...]}]``): the app's settings, the user's metadata
(``_supertokens.requiredSecondaryFactors``, as supertokens-python writes it) and, by default, a
verified TOTP device the user has; the app's hook may replace the list. Second factors are
TOTP, and codes by email or SMS to the user's own verified email or phone (one of the user's
login methods: without account linking no new login method is made).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.recipes.emailverification.service import EmailVerification
from tokenward.recipes.multifactorauth.rules import (
    FactorIds,
    MfaClaim,
    Requirement,
    check_requirements,
    claim_of,
    default_requirements,
    factor_of,
    next_factors,
    rebuilt_claim,
    recomputed,
    setup_refusal,
    with_factor,
)
from tokenward.recipes.totp.service import Totp
from tokenward.recipes.usermetadata.service import UserMetadata
from tokenward.recipes.users.port import UserRecord, UserStore
from tokenward.shared.clock import Clock
from tokenward.shared.email_delivery import EmailDeliveryError, EmailSender
from tokenward.shared.email_templates import security_notice_email

log = logging.getLogger(__name__)

RequirementsRule = Callable[
    [UserRecord, str, list[str], list[Requirement]], Awaitable[list[Any] | None]
]
"""The app's rule: (user, tenant id, factors set up, default requirements) → requirements, or
None to keep the default."""


class UnknownSessionUser(Exception):
    """The session's user (or its login method) is gone."""


@dataclass(frozen=True, slots=True)
class MfaPolicy:
    required: tuple[str, ...] = ()
    """Second factors every user must complete (one of them)."""
    enrolled_required: bool = True
    """A user with a verified TOTP device must use it."""
    otp_email: bool = True
    """Codes by email are a second factor (passwordless sends codes to emails)."""
    otp_phone: bool = True
    app_name: str = "tokenward"
    notify: bool = True


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the MFA use cases need of a session."""

    user_id: str
    recipe_user_id: str
    tenant_id: str
    payload: Mapping[str, Any]
    """The access-token payload (its ``st-mfa`` claim)."""
    created_ms: int
    """When the session began: the time of a rebuilt claim's first factor (0 when the payload
    has the claim and it is not needed)."""


@dataclass(frozen=True, slots=True)
class Stored:
    """What the user's standing is computed from, read together: a verified TOTP device,
    the user's metadata (``_supertokens.requiredSecondaryFactors``)."""

    totp_set_up: bool
    metadata: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Standing:
    """A user's factors: what is set up, what a sign-in requires, and where codes can go."""

    user: UserRecord
    set_up: list[str]
    requirements: list[Requirement]
    emails: list[str]
    """Verified emails, for codes by email."""
    phone_numbers: list[str]


@dataclass(frozen=True, slots=True)
class MfaInfo:
    """``PUT /mfa/info``'s answer."""

    claim: MfaClaim
    next: list[str]
    already_set_up: list[str]
    allowed_to_set_up: list[str]
    emails: dict[str, list[str]]
    phone_numbers: dict[str, list[str]]


class MultiFactorAuth:
    def __init__(
        self,
        users: UserStore,
        verification: EmailVerification,
        totp: Totp,
        metadata: UserMetadata,
        mail: EmailSender,
        clock: Clock,
        policy: MfaPolicy,
        rule: RequirementsRule | None = None,
    ) -> None:
        self._users = users
        self._verification = verification
        self._totp = totp
        self._metadata = metadata
        self._mail = mail
        self._clock = clock
        self.policy = policy
        self._rule = rule

    @property
    def secondary_factors(self) -> list[str]:
        """The second factors this deployment offers."""
        offered = []
        if self.policy.otp_email:
            offered.append(FactorIds.OTP_EMAIL)
        if self.policy.otp_phone:
            offered.append(FactorIds.OTP_PHONE)
        return [*offered, FactorIds.TOTP]

    async def stored(self, user: UserRecord) -> Stored:
        """The reads ``standing`` needs (a sign-in sends them with its others)."""
        totp_set_up, metadata = await asyncio.gather(
            self._totp.has_verified_device(user.user_id), self._metadata.get(user.user_id)
        )
        return Stored(totp_set_up, metadata)

    async def standing(
        self,
        user: UserRecord,
        tenant_id: str,
        verified: Mapping[str, bool] | None = None,
        stored: Stored | None = None,
    ) -> Standing:
        """``verified``: each login method's email-verification state, and ``stored``, when
        already read."""
        if stored is None:
            read, verified_now = await asyncio.gather(
                self.stored(user), self._verified(user, verified)
            )
        else:
            read, verified_now = stored, await self._verified(user, verified)
        totp_set_up, metadata = read.totp_set_up, read.metadata
        emails = list(
            dict.fromkeys(
                m.email for m in user.login_methods if m.email and verified_now[m.recipe_user_id]
            )
        )
        phones = list(
            dict.fromkeys(
                m.phone_number
                for m in user.login_methods
                if m.phone_number and m.recipe_id == "passwordless"
            )
        )
        set_up: list[str] = []
        if any(m.recipe_id == "emailpassword" for m in user.login_methods):
            set_up.append(FactorIds.EMAILPASSWORD)
        if self.policy.otp_email and emails:
            set_up.append(FactorIds.OTP_EMAIL)
        if self.policy.otp_phone and phones:
            set_up.append(FactorIds.OTP_PHONE)
        if totp_set_up:
            set_up.append(FactorIds.TOTP)
        requirements = await self._requirements(user, tenant_id, set_up, metadata, totp_set_up)
        return Standing(user, set_up, requirements, emails, phones)

    async def sign_in_claim(
        self,
        user: UserRecord,
        tenant_id: str,
        factor: str,
        verified: Mapping[str, bool],
        stored: Stored,
    ) -> MfaClaim:
        """The claim of a new session signed in with the first factor ``factor``."""
        standing = await self.standing(user, tenant_id, verified, stored)
        return with_factor(None, factor, self._clock.now_ms(), standing.requirements)

    async def completed(self, session: SessionFacts, factor: str) -> MfaClaim:
        """The session's claim once ``factor`` is completed in it now."""
        standing = await self._standing_of(session)
        claim = self._claim(standing, session)
        return with_factor(claim, factor, self._clock.now_ms(), standing.requirements)

    async def current_claim(self, session: SessionFacts) -> MfaClaim:
        """The session's claim with ``v`` computed afresh (rebuilt when the token lacks it).
        A session of a user tokenward does not know (the app runs sessions for its own users)
        has no factors to complete."""
        user = await self._users.get(session.user_id)
        if user is None:
            return MfaClaim({}, True)
        standing = await self.standing(user, session.tenant_id)
        return self._claim(standing, session)

    async def setup_refusal(self, session: SessionFacts, factor: str) -> str | None:
        """Why the session may not set up ``factor`` (or complete it as a second factor
        before the requirements are met), or None."""
        standing = await self._standing_of(session)
        claim = self._claim(standing, session)
        return setup_refusal(claim, standing.requirements, standing.set_up, factor)

    async def info(self, session: SessionFacts) -> MfaInfo:
        standing = await self._standing_of(session)
        recipe_user_id = session.recipe_user_id
        if not any(m.recipe_user_id == recipe_user_id for m in standing.user.login_methods):
            raise UnknownSessionUser(recipe_user_id)
        claim = self._claim(standing, session)
        allowed = [
            factor
            for factor in self.secondary_factors
            # Without account linking a code goes only to an email or phone the user has.
            if (factor == FactorIds.TOTP or factor in standing.set_up)
            and setup_refusal(claim, standing.requirements, standing.set_up, factor) is None
        ]
        pending = next_factors(claim.c, standing.requirements)
        following = [f for f in pending if f in allowed or f in standing.set_up]
        if pending and not following:
            # Still listed: an empty list would read as "done" to the frontends.
            log.warning(
                "a user must complete %s but can set none of them up (is the factor offered?)",
                ", ".join(pending),
            )
            following = pending
        session_method = next(
            m for m in standing.user.login_methods if m.recipe_user_id == recipe_user_id
        )
        emails: dict[str, list[str]] = {}
        passwords = [
            m.email
            for m in standing.user.login_methods
            if m.recipe_id == FactorIds.EMAILPASSWORD and m.email
        ]
        if passwords:
            emails[FactorIds.EMAILPASSWORD] = _first(passwords, session_method.email)
        if self.policy.otp_email:
            emails[FactorIds.OTP_EMAIL] = _first(standing.emails, session_method.email)
        phones: dict[str, list[str]] = {}
        if self.policy.otp_phone:
            phones[FactorIds.OTP_PHONE] = _first(
                standing.phone_numbers, session_method.phone_number
            )
        return MfaInfo(
            claim=claim,
            next=following,
            already_set_up=standing.set_up,
            allowed_to_set_up=allowed,
            emails=emails,
            phone_numbers=phones,
        )

    async def notify(self, user_id: str, change: str) -> None:
        """Email the user that ``change`` happened (best effort)."""
        if not self.policy.notify:
            return
        try:
            user = await self._users.get(user_id)
            email = next((m.email for m in user.login_methods if m.email), None) if user else None
            if email is not None:
                await self._mail.send(
                    security_notice_email(email, change=change, app_name=self.policy.app_name)
                )
        except Exception as failed:  # sent after the answer: nobody to tell but the log
            reason = "the mail server" if isinstance(failed, EmailDeliveryError) else "an error"
            log.warning("a security notice was not sent (%s); the change stands", reason)

    # --- helpers -----------------------------------------------------------------------------

    async def _standing_of(self, session: SessionFacts) -> Standing:
        user = await self._users.get(session.user_id)
        if user is None:
            raise UnknownSessionUser(session.user_id)
        return await self.standing(user, session.tenant_id)

    def _claim(self, standing: Standing, session: SessionFacts) -> MfaClaim:
        """The session's claim with ``v`` computed afresh; rebuilt when the token lacks it."""
        claim = claim_of(session.payload)
        if claim is None:
            method = next(
                (
                    m
                    for m in standing.user.login_methods
                    if m.recipe_user_id == session.recipe_user_id
                ),
                None,
            )
            if method is None:
                raise UnknownSessionUser(session.recipe_user_id)
            factor = factor_of(method.recipe_id, email=method.email is not None, by_link=True)
            claim = rebuilt_claim(factor, session.created_ms)
        return recomputed(claim, standing.requirements)

    async def _verified(
        self, user: UserRecord, known: Mapping[str, bool] | None
    ) -> Mapping[str, bool]:
        if known is not None and all(m.recipe_user_id in known for m in user.login_methods):
            return known
        return await self._verification.verified_login_methods(user, known=known)

    async def _requirements(
        self,
        user: UserRecord,
        tenant_id: str,
        set_up: list[str],
        metadata: Mapping[str, Any],
        totp_set_up: bool,
    ) -> list[Requirement]:
        internal = metadata.get("_supertokens")
        listed = internal.get("requiredSecondaryFactors") if isinstance(internal, dict) else None
        user_required = (
            [f for f in listed if isinstance(f, str)] if isinstance(listed, list) else []
        )
        enrolled = [FactorIds.TOTP] if self.policy.enrolled_required and totp_set_up else []
        requirements = default_requirements(self.policy.required, user_required, enrolled)
        if self._rule is None:
            return requirements
        custom = await self._rule(user, tenant_id, list(set_up), requirements)
        return requirements if custom is None else check_requirements(custom)


def _first(values: list[str], preferred: str | None) -> list[str]:
    if preferred is None or preferred not in values:
        return values
    return [preferred, *(v for v in values if v != preferred)]
