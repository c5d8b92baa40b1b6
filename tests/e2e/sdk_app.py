"""A FastAPI app built with the official supertokens-python SDK (0.31.4), pointed at a running
`tokenward serve` as its core. The test suite runs it as a separate process, with the
environment variables TOKENWARD_CORE_URL, TOKENWARD_CORE_API_KEY, PORT and MAIL_LOG.

Emails the SDK would send are appended to MAIL_LOG as JSON lines, so the test can follow links.
"""

from __future__ import annotations

import json
import os
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI
from supertokens_python import InputAppInfo, SupertokensConfig, init
from supertokens_python.framework.fastapi import get_middleware
from supertokens_python.ingredients.emaildelivery.types import (
    EmailDeliveryConfig,
    EmailDeliveryInterface,
)
from supertokens_python.recipe import emailpassword, emailverification, session
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.framework.fastapi import verify_session

PORT = int(os.environ["PORT"])
MAIL_LOG = os.environ["MAIL_LOG"]


class MailLog(EmailDeliveryInterface[Any]):
    async def send_email(self, template_vars: Any, user_context: dict[str, Any]) -> None:
        link = getattr(template_vars, "email_verify_link", None) or getattr(
            template_vars, "password_reset_link", None
        )
        with open(MAIL_LOG, "a") as log:
            log.write(json.dumps({"to": template_vars.user.email, "link": link}) + "\n")


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


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
