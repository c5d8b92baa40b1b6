"""The email/password recipe: sign-up, sign-in, email exists and password reset."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.recipes.emailpassword import cdi, fdi
from tokenward.recipes.emailpassword import schemas as s
from tokenward.recipes.emailpassword.settings import EmailPasswordSettings

EP, TAG = "emailpassword", "EmailPassword Recipe"
EMAIL_EXISTS = rl.Limit(rl.email_exists, rl.query_email)

RECORD = RecipeRecord(
    recipe_id=EP,
    frontend=(
        FrontendRoute(
            "POST", "/signup", fdi.sign_up,
            Operation(
                "signUp", "Sign up with email and password", TAG, s.SignUpResponse,
                body=s.SignUpRequest, rid=EP, issues_tokens=True,
            ),
            tenanted=True, limit=rl.Limit(rl.sign_up, rl.form_email),
        ),
        FrontendRoute(
            "POST", "/signin", fdi.sign_in,
            Operation(
                "signIn", "Sign in with email and password", TAG, s.SignInResponse,
                body=s.SignInRequest, rid=EP, issues_tokens=True,
            ),
            tenanted=True, limit=rl.SIGN_IN,
        ),
        FrontendRoute(
            "GET", "/emailpassword/email/exists", fdi.email_exists,
            Operation(
                "emailExists", "Is the email taken by an email/password user", TAG,
                s.EmailExists, rid=EP, query="email",
            ),
            tenanted=True, limit=EMAIL_EXISTS,
        ),
        FrontendRoute(
            "GET", "/signup/email/exists", fdi.email_exists,
            Operation(
                "emailExistsDepr", "Is the email taken (older SDKs)", TAG, s.EmailExists,
                rid=EP, query="email", deprecated=True,
            ),
            tenanted=True, limit=EMAIL_EXISTS,
        ),
        FrontendRoute(
            "POST", "/user/password/reset/token", fdi.send_reset_link,
            Operation(
                "passwordResetToken", "Email a password-reset link", TAG,
                s.PasswordResetTokenResponse, body=s.PasswordResetTokenRequest, rid=EP,
            ),
            tenanted=True, limit=rl.Limit(rl.emails, rl.form_email),
        ),
        FrontendRoute(
            "POST", "/user/password/reset", fdi.reset_password,
            Operation(
                "passwordReset", "Set a new password with the token from the link", TAG,
                s.PasswordResetResponse, body=s.PasswordResetRequest, rid=EP,
            ),
            tenanted=True,
        ),
    ),
    core=(
        CoreRoute("POST", "/recipe/signup", cdi.sign_up, tenanted=True),
        CoreRoute("POST", "/recipe/signin", cdi.sign_in, tenanted=True),
        CoreRoute("POST", "/recipe/user/password/reset/token", cdi.reset_token, tenanted=True),
        CoreRoute(
            "POST", "/recipe/user/password/reset/token/consume", cdi.consume_reset_token,
            tenanted=True,
        ),
    ),
    user_update=cdi.update_user,
    settings=EmailPasswordSettings,
)  # fmt: skip
