"""The recipes tokenward serves, in the order their routes are matched."""

from __future__ import annotations

from tokenward.http.records import RecipeRecord
from tokenward.recipes.emailpassword.record import RECORD as EMAIL_PASSWORD
from tokenward.recipes.emailverification.record import RECORD as EMAIL_VERIFICATION
from tokenward.recipes.jwt.record import RECORD as JWT
from tokenward.recipes.multifactorauth.record import RECORD as MULTI_FACTOR_AUTH
from tokenward.recipes.multitenancy.record import RECORD as MULTITENANCY
from tokenward.recipes.passwordless.record import RECORD as PASSWORDLESS
from tokenward.recipes.session.record import RECORD as SESSION
from tokenward.recipes.thirdparty.record import RECORD as THIRD_PARTY
from tokenward.recipes.totp.record import RECORD as TOTP
from tokenward.recipes.usermetadata.record import RECORD as USER_METADATA
from tokenward.recipes.userroles.record import RECORD as USER_ROLES
from tokenward.recipes.users.record import RECORD as USERS

RECIPES: tuple[RecipeRecord, ...] = (
    JWT,
    SESSION,
    EMAIL_VERIFICATION,
    EMAIL_PASSWORD,
    PASSWORDLESS,
    THIRD_PARTY,
    TOTP,
    MULTI_FACTOR_AUTH,
    USERS,
    MULTITENANCY,
    USER_ROLES,
    USER_METADATA,
)
