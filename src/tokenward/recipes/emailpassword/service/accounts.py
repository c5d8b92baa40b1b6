"""Email/password accounts: sign-up, sign-in, and whether an email is taken.

Sign-in never tells an unknown email from a wrong password: both answer WrongCredentials, and the
unknown-email path spends one password verification too (on a dummy hash), so timing does not
tell them apart either. Stored hashes weaker than the configured parameters (or imported bcrypt
hashes) are replaced on the next successful sign-in.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tokenward.recipes.emailpassword.errors import WrongCredentials
from tokenward.recipes.emailpassword.rules import PasswordContext, PasswordValidator, first_error
from tokenward.recipes.users.port import EmailAlreadyExists, UserRecord, UserStore
from tokenward.shared.clock import Clock
from tokenward.shared.emails import email_error, normalise_email
from tokenward.shared.form_errors import FieldError, FieldErrors
from tokenward.shared.password_hashing import HashingBusy, PasswordHasher

EMAIL_EXISTS_MESSAGE = "This email already exists. Please sign in instead."


@dataclass(frozen=True, slots=True)
class PasswordRules:
    validators: Sequence[PasswordValidator]
    max_length: int
    """Checked before anything else on every path, so oversized input never reaches a hash."""
    app_name: str


class EmailPasswordAccounts:
    def __init__(
        self, users: UserStore, hasher: PasswordHasher, rules: PasswordRules, clock: Clock
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._rules = rules
        self._clock = clock

    def password_error(self, password: str, email: str | None) -> str | None:
        context = PasswordContext(email=email, app_name=self._rules.app_name)
        return first_error(password, context, self._rules.validators)

    async def hash_password(self, password: str) -> str:
        return await self._hasher.hash(password)

    def input_errors(self, email: str, password: str) -> list[FieldError]:
        """What is wrong with sign-up credentials, without looking at the database."""
        email = normalise_email(email)
        errors = []
        if (message := email_error(email)) is not None:
            errors.append(FieldError("email", message))
        if (message := self.password_error(password, email)) is not None:
            errors.append(FieldError("password", message))
        return errors

    async def sign_up(self, tenant_id: str, email: str, password: str) -> UserRecord:
        if errors := self.input_errors(email, password):
            raise FieldErrors(errors)
        email = normalise_email(email)
        if await self._users.find_email_password(tenant_id, email) is not None:
            raise FieldErrors([FieldError("email", EMAIL_EXISTS_MESSAGE)])
        password_hash = await self._hasher.hash(password)
        try:
            return await self._users.create_email_password_user(
                user_id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                email=email,
                password_hash=password_hash,
                now=self._clock.now_ms(),
            )
        except EmailAlreadyExists:
            raise FieldErrors([FieldError("email", EMAIL_EXISTS_MESSAGE)]) from None

    async def sign_in(self, tenant_id: str, email: str, password: str) -> UserRecord:
        email = normalise_email(email)
        if (message := email_error(email)) is not None:
            raise FieldErrors([FieldError("email", message)])
        if len(password) > self._rules.max_length:
            raise WrongCredentials
        found = await self._users.find_email_password_user(tenant_id, email)
        stored_hash = None if found is None else found[1].password_hash
        if found is None or stored_hash is None:
            await self._hasher.verify_dummy(password)
            raise WrongCredentials
        user, method = found
        if not await self._hasher.verify(stored_hash, password):
            raise WrongCredentials
        if self._hasher.needs_rehash(stored_hash):
            with contextlib.suppress(HashingBusy):  # the next sign-in upgrades it instead
                await self._users.set_password_hash(
                    method.recipe_user_id, await self._hasher.hash(password)
                )
        return user

    async def create_user(self, tenant_id: str, email: str, password: str) -> UserRecord:
        """Create an account without the password policy: for the core API, whose callers (the
        backend SDKs) apply their own. Raises EmailAlreadyExists or UnknownTenant."""
        return await self._users.create_email_password_user(
            user_id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            email=normalise_email(email),
            password_hash=await self._hasher.hash(password),
            now=self._clock.now_ms(),
        )

    async def set_password(self, recipe_user_id: str, password: str) -> bool:
        """Replace a password (the core API's update of a user); False for an unknown user."""
        return await self._users.set_password_hash(
            recipe_user_id, await self._hasher.hash(password)
        )

    async def email_exists(self, tenant_id: str, email: str) -> bool:
        found = await self._users.find_email_password(tenant_id, normalise_email(email))
        return found is not None
