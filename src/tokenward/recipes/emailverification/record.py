"""The email-verification recipe: verification links, the ``st-ev`` claim, and its core API."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.recipes.emailverification import cdi, fdi
from tokenward.recipes.emailverification import schemas as s
from tokenward.recipes.emailverification.service import EMAIL_VERIFIED
from tokenward.recipes.emailverification.settings import EmailVerificationSettings
from tokenward.shared.database import schema

EV, TAG = "emailverification", "EmailVerification Recipe"

RECORD = RecipeRecord(
    recipe_id=EV,
    frontend=(
        FrontendRoute(
            "POST", "/user/email/verify/token", fdi.send_link,
            Operation(
                "verifyEmailToken", "Send an email-verification link to the session's user",
                TAG, s.VerificationEmailResponse, rid=EV, session="access",
            ),
            limit=rl.Limit(rl.emails, rl.session_user),
        ),
        FrontendRoute(
            "GET", "/user/email/verify", fdi.is_verified,
            Operation(
                "getVerifyEmail", "Is the session's email verified (updates the st-ev claim)",
                TAG, s.IsVerified, rid=EV, session="access",
            ),
        ),
        FrontendRoute(
            "POST", "/user/email/verify", fdi.verify,
            Operation(
                "verifyEmail", "Verify an email address with the token from the link",
                TAG, s.VerifyEmailResponse, body=s.VerifyEmailRequest, rid=EV,
            ),
            tenanted=True,
        ),
    ),
    core=(
        CoreRoute("POST", "/recipe/user/email/verify/token", cdi.verification_token, tenanted=True),
        CoreRoute("POST", "/recipe/user/email/verify", cdi.verify_email, tenanted=True),
        CoreRoute("GET", "/recipe/user/email/verify", cdi.is_email_verified),
        CoreRoute("POST", "/recipe/user/email/verify/remove", cdi.unverify_email),
    ),
    tables=(schema.verified_emails,),
    claims=(EMAIL_VERIFIED,),
    settings=EmailVerificationSettings,
)  # fmt: skip
