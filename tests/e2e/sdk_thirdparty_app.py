"""A FastAPI app built with the official supertokens-python SDK (0.31.4) and its third-party
recipe, pointed at a running `tokenward serve` as its core. The test suite runs it as a separate
process, with the environment variables TOKENWARD_CORE_URL, TOKENWARD_CORE_API_KEY, PORT,
OIDC_DISCOVERY_URL, OIDC_WEB_CLIENT_ID, OIDC_WEB_CLIENT_SECRET and OIDC_SPA_CLIENT_ID.

Two custom providers on the same local OpenID provider: ``local-oidc`` with a confidential
client (a secret; no PKCE unless asked) and ``local-oidc-public`` with a public client (no
secret, so the SDK adds PKCE). Both are static in the SDK; ``PUT /api/providers`` configures
one in the core instead (the SDK's ``create_or_update_third_party_config``), which the SDK then
reads from the core's tenant.
"""

from __future__ import annotations

import os
from typing import Any

import tldextract
import uvicorn
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from supertokens_python import InputAppInfo, SupertokensConfig, init
from supertokens_python.asyncio import get_user, list_users_by_account_info
from supertokens_python.framework.fastapi import get_middleware
from supertokens_python.recipe import emailverification, session, thirdparty
from supertokens_python.recipe.multitenancy.asyncio import (
    create_or_update_third_party_config,
    delete_third_party_config,
)
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.framework.fastapi import verify_session
from supertokens_python.recipe.thirdparty.asyncio import manually_create_or_update_user
from supertokens_python.recipe.thirdparty.interfaces import ManuallyCreateOrUpdateUserOkResult
from supertokens_python.recipe.thirdparty.provider import (
    ProviderClientConfig,
    ProviderConfig,
    ProviderInput,
)
from supertokens_python.recipe.thirdparty.types import ThirdPartyInfo
from supertokens_python.types.base import AccountInfoInput

# Offline: the SDK's public-suffix helper uses its bundled snapshot instead of downloading one.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

PORT = int(os.environ["PORT"])
DISCOVERY_URL = os.environ["OIDC_DISCOVERY_URL"]
SCOPE = ["openid", "email", "profile"]


def provider(third_party_id: str, client: ProviderClientConfig) -> ProviderInput:
    # For a custom provider the SDK takes the full discovery URL (it appends nothing).
    return ProviderInput(
        config=ProviderConfig(
            third_party_id=third_party_id,
            name=third_party_id,
            clients=[client],
            oidc_discovery_endpoint=DISCOVERY_URL,
        )
    )


init(
    app_info=InputAppInfo(
        app_name="tokenward-sdk-thirdparty-test",
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
        emailverification.init(mode="OPTIONAL"),
        thirdparty.init(
            sign_in_and_up_feature=thirdparty.SignInAndUpFeature(
                providers=[
                    provider(
                        "local-oidc",
                        ProviderClientConfig(
                            client_id=os.environ["OIDC_WEB_CLIENT_ID"],
                            client_secret=os.environ["OIDC_WEB_CLIENT_SECRET"],
                            scope=SCOPE,
                        ),
                    ),
                    provider(
                        "local-oidc-public",
                        ProviderClientConfig(
                            client_id=os.environ["OIDC_SPA_CLIENT_ID"], scope=SCOPE
                        ),
                    ),
                ]
            )
        ),
    ],
)

app = FastAPI()
app.add_middleware(get_middleware())


def user_json(user: Any) -> dict[str, Any]:
    answer: dict[str, Any] = user.to_json()
    return answer


@app.get("/api/me")
async def me(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
    return {"userId": s.get_user_id(), "payload": s.get_access_token_payload()}


@app.get("/api/users/{user_id}")
async def one_user(user_id: str) -> dict[str, Any]:
    user = await get_user(user_id)
    return {"user": None if user is None else user_json(user)}


@app.get("/api/by-account-info")
async def by_account_info(
    third_party_id: str | None = None,
    third_party_user_id: str | None = None,
    email: str | None = None,
    union: bool = False,
) -> dict[str, Any]:
    third_party = (
        None
        if third_party_id is None or third_party_user_id is None
        else ThirdPartyInfo(third_party_user_id=third_party_user_id, third_party_id=third_party_id)
    )
    users = await list_users_by_account_info(
        "public", AccountInfoInput(email=email, third_party=third_party), union
    )
    return {"users": [user_json(u) for u in users]}


class CoreProvider(BaseModel):
    third_party_id: str
    client_id: str
    client_secret: str


@app.put("/api/providers")
async def put_provider(body: CoreProvider) -> dict[str, Any]:
    client = ProviderClientConfig(
        client_id=body.client_id, client_secret=body.client_secret, scope=SCOPE
    )
    config = provider(body.third_party_id, client).config
    created = await create_or_update_third_party_config("public", config)
    return {"createdNew": created.created_new}


@app.post("/api/providers/remove")
async def remove_provider(body: CoreProvider) -> dict[str, Any]:
    removed = await delete_third_party_config("public", body.third_party_id)
    return {"didConfigExist": removed.did_config_exist}


class Manual(BaseModel):
    third_party_id: str
    third_party_user_id: str
    email: str
    is_verified: bool


@app.post("/api/manual")
async def manual(body: Manual) -> dict[str, Any]:
    result = await manually_create_or_update_user(
        "public", body.third_party_id, body.third_party_user_id, body.email, body.is_verified
    )
    if not isinstance(result, ManuallyCreateOrUpdateUserOkResult):
        return {"status": type(result).__name__, "detail": vars(result)}
    return {
        "status": "OK",
        "createdNewRecipeUser": result.created_new_recipe_user,
        "recipeUserId": result.recipe_user_id.get_as_string(),
        "user": user_json(result.user),
    }


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
