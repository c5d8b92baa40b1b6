"""The multi-factor auth recipe: ``PUT /mfa/info`` (SuperTokens'), recovery codes (tokenward's
own) and the ``st-mfa`` claim, which the global validators check on every protected route."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import FrontendRoute, RecipeRecord
from tokenward.recipes.multifactorauth import fdi
from tokenward.recipes.multifactorauth import schemas as s
from tokenward.recipes.multifactorauth.rules import RECIPE_ID as MFA
from tokenward.recipes.multifactorauth.settings import MultiFactorAuthSettings
from tokenward.shared.database.schema import mfa_recovery_codes

TAG = "MultiFactorAuth Recipe"

RECORD = RecipeRecord(
    recipe_id=MFA,
    frontend=(
        FrontendRoute(
            "PUT", "/mfa/info", fdi.info,
            Operation(
                "mfaInfo", "Factors set up, allowed and next; brings st-mfa up to date", TAG,
                s.MfaInfo, rid=MFA, session="access",
            ),
        ),
        FrontendRoute(
            "POST", "/mfa/recovery-codes", fdi.create_recovery_codes,
            Operation(
                "mfaCreateRecoveryCodes", "A new set of recovery codes (the old set stops)",
                TAG, s.RecoveryCodes, rid=MFA, session="access",
            ),
            limit=rl.Limit(rl.emails, rl.session_user),
        ),
        FrontendRoute(
            "GET", "/mfa/recovery-codes", fdi.count_recovery_codes,
            Operation(
                "mfaRecoveryCodesLeft", "How many recovery codes are unused", TAG,
                s.RemainingCodes, rid=MFA, session="access",
            ),
        ),
        FrontendRoute(
            "POST", "/mfa/recovery-code/verify", fdi.use_recovery_code,
            Operation(
                "mfaUseRecoveryCode", "Complete the second factor with a recovery code", TAG,
                s.UseRecoveryCodeResponse, body=s.UseRecoveryCodeRequest, rid=MFA,
                session="access",
            ),
            limit=rl.Limit(rl.code_consumes, rl.session_user),
        ),
    ),
    tables=(mfa_recovery_codes,),
    settings=MultiFactorAuthSettings,
)  # fmt: skip
