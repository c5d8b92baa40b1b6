"""The passwordless recipe: sign-in codes and magic links by email or SMS."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.recipes.passwordless import cdi, fdi
from tokenward.recipes.passwordless import schemas as s
from tokenward.recipes.passwordless.settings import PasswordlessSettings
from tokenward.shared.database.schema import passwordless_codes, passwordless_devices
from tokenward.shared.phone_numbers import normalise_phone

PL, TAG = "passwordless", "Passwordless Recipe"
PHONE_EXISTS = rl.Limit(rl.email_exists, rl.query_value("phoneNumber", normalise_phone))

RECORD = RecipeRecord(
    recipe_id=PL,
    frontend=(
        FrontendRoute(
            "POST", "/signinup/code", fdi.create_code,
            Operation(
                "passwordlessCreateCode", "Send a sign-in code or link to an email or phone",
                TAG, s.CreateCodeResponse, body=s.CreateCodeRequest, rid=PL,
                second_factor=True,
            ),
            tenanted=True, limit=rl.Limit(rl.codes, rl.body_subject(fdi.contact_key)),
        ),
        FrontendRoute(
            "POST", "/signinup/code/resend", fdi.resend_code,
            Operation(
                "passwordlessResendCode", "Send a new code for the same sign-in attempt", TAG,
                s.ResendCodeResponse, body=s.ResendCodeRequest, rid=PL,
            ),
            tenanted=True, limit=rl.Limit(rl.resent_codes, rl.body_subject(fdi.device_key)),
        ),
        FrontendRoute(
            "POST", "/signinup/code/consume", fdi.consume_code,
            Operation(
                "passwordlessConsumeCode", "Sign up or in with a typed code or a link code",
                TAG, s.ConsumeCodeResponse, body=s.ConsumeCodeRequest, rid=PL,
                issues_tokens=True, second_factor=True,
            ),
            tenanted=True, limit=rl.Limit(rl.code_consumes),
        ),
        FrontendRoute(
            "GET", "/passwordless/email/exists", fdi.email_exists,
            Operation(
                "passwordlessEmailExists", "Is the email taken by a passwordless user", TAG,
                s.Exists, rid=PL, query="email",
            ),
            tenanted=True, limit=rl.Limit(rl.email_exists, rl.query_email),
        ),
        FrontendRoute(
            "GET", "/passwordless/phonenumber/exists", fdi.phone_number_exists,
            Operation(
                "passwordlessPhoneNumberExists", "Is the phone number taken", TAG, s.Exists,
                rid=PL, query="phoneNumber",
            ),
            tenanted=True, limit=PHONE_EXISTS,
        ),
        FrontendRoute(
            "GET", "/signup/phonenumber/exists", fdi.phone_number_exists,
            Operation(
                "passwordlessPhoneNumberExistsDepr", "Is the phone number taken (older SDKs)",
                TAG, s.Exists, rid=PL, query="phoneNumber", deprecated=True,
            ),
            tenanted=True, limit=PHONE_EXISTS,
        ),
    ),
    core=(
        CoreRoute("POST", "/recipe/signinup/code", cdi.create_code, tenanted=True),
        CoreRoute("POST", "/recipe/signinup/code/consume", cdi.consume_code, tenanted=True),
        CoreRoute("POST", "/recipe/signinup/code/check", cdi.check_code, tenanted=True),
        CoreRoute("GET", "/recipe/signinup/codes", cdi.list_codes, tenanted=True),
        CoreRoute("POST", "/recipe/signinup/code/remove", cdi.remove_code, tenanted=True),
        CoreRoute("POST", "/recipe/signinup/codes/remove", cdi.remove_codes, tenanted=True),
    ),
    tables=(passwordless_devices, passwordless_codes),
    user_update=cdi.update_user,
    settings=PasswordlessSettings,
)  # fmt: skip
