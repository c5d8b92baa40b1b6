"""A FastAPI app built with the official supertokens-python SDK (0.31.4), pointed at a running
`tokenward serve` as its core. The test suite runs it as a separate process, with the
environment variables TOKENWARD_CORE_URL, TOKENWARD_CORE_API_KEY, PORT, MAIL_LOG, SMTP_PORT and
SMS_LOG.

Email-verification and password-reset emails are appended to MAIL_LOG as JSON lines, so the test
can follow links. Passwordless emails go through the SDK's own SMTP service to a plain SMTP
server on 127.0.0.1:SMTP_PORT; passwordless SMS are appended to SMS_LOG as JSON lines (the SDK's
default SMS service would call SuperTokens' cloud).

With SDK_MFA=1 the app also has the SDK's totp (issuer "Acme") and multifactorauth recipes (the
default first factors), and POST /api/require-totp/{user_id} makes TOTP a required second factor.
"""

from __future__ import annotations

import json
import os
from typing import Any

import tldextract
import uvicorn
from fastapi import Depends, FastAPI
from supertokens_python import InputAppInfo, SupertokensConfig, init
from supertokens_python.asyncio import delete_user, get_user_count, get_users_newest_first
from supertokens_python.framework.fastapi import get_middleware
from supertokens_python.ingredients.emaildelivery.types import (
    EmailDeliveryConfig,
    EmailDeliveryInterface,
    SMTPSettings,
    SMTPSettingsFrom,
)
from supertokens_python.ingredients.smsdelivery.types import (
    SMSDeliveryConfig,
    SMSDeliveryInterface,
)
from supertokens_python.recipe import (
    emailpassword,
    emailverification,
    multifactorauth,
    passwordless,
    session,
    totp,
    usermetadata,
    userroles,
)
from supertokens_python.recipe.multifactorauth.asyncio import (
    add_to_required_secondary_factors_for_user,
)
from supertokens_python.recipe.passwordless import ContactEmailOrPhoneConfig, SMTPService
from supertokens_python.recipe.passwordless.types import SMSTemplateVars
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.framework.fastapi import verify_session
from supertokens_python.recipe.totp import TOTPConfig
from supertokens_python.recipe.usermetadata.asyncio import get_user_metadata, update_user_metadata
from supertokens_python.recipe.userroles import UserRoleClaim
from supertokens_python.recipe.userroles.asyncio import (
    add_role_to_user,
    create_new_role_or_add_permissions,
)

# Offline: the SDK's public-suffix helper uses its bundled snapshot instead of downloading one.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

PORT = int(os.environ["PORT"])
MAIL_LOG = os.environ["MAIL_LOG"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
SMS_LOG = os.environ["SMS_LOG"]
MFA = os.environ.get("SDK_MFA") == "1"


class MailLog(EmailDeliveryInterface[Any]):
    async def send_email(self, template_vars: Any, user_context: dict[str, Any]) -> None:
        link = getattr(template_vars, "email_verify_link", None) or getattr(
            template_vars, "password_reset_link", None
        )
        with open(MAIL_LOG, "a") as log:
            log.write(json.dumps({"to": template_vars.user.email, "link": link}) + "\n")


class SmsLog(SMSDeliveryInterface[SMSTemplateVars]):
    async def send_sms(self, template_vars: SMSTemplateVars, user_context: dict[str, Any]) -> None:
        sms = {
            "phone": template_vars.phone_number,
            "code": template_vars.user_input_code,
            "link": template_vars.url_with_link_code,
        }
        with open(SMS_LOG, "a") as log:
            log.write(json.dumps(sms) + "\n")


init(
    app_info=InputAppInfo(
        app_name="tokenward-sdk-test",
        api_domain=f"http://localhost:{PORT}",
        website_domain=f"http://localhost:{PORT}",
        api_base_path="/auth",
        website_base_path="/auth",
    ),
    supertokens_config=SupertokensConfig(
        connection_uri=os.environ["TOKENWARD_CORE_URL"],
        api_key=os.environ["TOKENWARD_CORE_API_KEY"],
    ),
    framework="fastapi",
    mode="asgi",
    telemetry=False,
    recipe_list=[
        session.init(),
        emailpassword.init(email_delivery=EmailDeliveryConfig(service=MailLog())),
        emailverification.init(
            mode="OPTIONAL", email_delivery=EmailDeliveryConfig(service=MailLog())
        ),
        passwordless.init(
            flow_type="USER_INPUT_CODE_AND_MAGIC_LINK",
            contact_config=ContactEmailOrPhoneConfig(),
            email_delivery=EmailDeliveryConfig(
                service=SMTPService(
                    SMTPSettings(
                        host="127.0.0.1",
                        port=SMTP_PORT,
                        from_=SMTPSettingsFrom("tokenward SDK test", "no-reply@example.com"),
                        secure=False,
                    )
                )
            ),
            sms_delivery=SMSDeliveryConfig(service=SmsLog()),
        ),
        userroles.init(),
        usermetadata.init(),
        *([totp.init(TOTPConfig(issuer="Acme")), multifactorauth.init()] if MFA else []),
    ],
)

app = FastAPI()
app.add_middleware(get_middleware())


@app.get("/api/me")
async def me(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
    return {"userId": s.get_user_id(), "payload": s.get_access_token_payload()}


@app.get("/api/fresh")
async def fresh(
    s: SessionContainer = Depends(verify_session(check_database=True)),
) -> dict[str, Any]:
    return {"handle": s.get_handle()}


def admins_only(
    validators: list[Any], _session: SessionContainer, _context: dict[str, Any]
) -> list[Any]:
    return [*validators, UserRoleClaim.validators.includes("admin")]


@app.get("/api/admin")
async def admin(
    s: SessionContainer = Depends(verify_session(override_global_claim_validators=admins_only)),
) -> dict[str, Any]:
    return {"userId": s.get_user_id()}


@app.post("/api/grant-admin/{user_id}")
async def grant_admin(user_id: str) -> dict[str, Any]:
    created = await create_new_role_or_add_permissions("admin", ["users:read", "users:write"])
    added = await add_role_to_user("public", user_id, "admin")
    return {"created": created.created_new_role, "added": type(added).__name__}


@app.get("/api/metadata")
async def read_metadata(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
    return (await get_user_metadata(s.get_user_id())).metadata


@app.post("/api/metadata")
async def write_metadata(
    update: dict[str, Any], s: SessionContainer = Depends(verify_session())
) -> dict[str, Any]:
    return (await update_user_metadata(s.get_user_id(), update)).metadata


@app.post("/api/require-totp/{user_id}")
async def require_totp(user_id: str) -> dict[str, Any]:
    await add_to_required_secondary_factors_for_user(user_id, "totp")
    return (await get_user_metadata(user_id)).metadata


@app.get("/api/users")
async def users() -> dict[str, Any]:
    page = await get_users_newest_first("public")
    return {"ids": [u.id for u in page.users], "count": await get_user_count()}


@app.delete("/api/users/{user_id}")
async def remove(user_id: str) -> dict[str, str]:
    await delete_user(user_id)
    return {"deleted": user_id}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
