"""The third-party recipe: social and enterprise sign-in with OAuth 2.0 and OpenID Connect."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.recipes.thirdparty import cdi, fdi
from tokenward.recipes.thirdparty import schemas as s
from tokenward.recipes.thirdparty.settings import ThirdPartySettings
from tokenward.shared.database import schema

TP, TAG = "thirdparty", "ThirdParty Recipe"

RECORD = RecipeRecord(
    recipe_id=TP,
    frontend=(
        FrontendRoute(
            "GET", "/authorisationurl", fdi.authorisation_url,
            Operation(
                "thirdPartyAuthorisationUrl", "The provider's sign-in URL (with PKCE)", TAG,
                s.AuthorisationUrlResponse, rid=TP, query="thirdPartyId",
            ),
            tenanted=True, limit=rl.Limit(rl.provider_urls),
        ),
        FrontendRoute(
            "POST", "/signinup", fdi.sign_in_up,
            Operation(
                "thirdPartySignInUp", "Sign up or in with the provider's redirect or tokens",
                TAG, s.SignInUpResponse, body=s.SignInUpRequest, rid=TP, issues_tokens=True,
            ),
            tenanted=True, limit=rl.Limit(rl.provider_sign_ins),
        ),
        FrontendRoute(
            "POST", "/callback/apple", fdi.apple_callback,
            Operation(
                "thirdPartyCallbackApple", "Apple's form_post: back to the website (303)", TAG,
                None, form=s.ProviderCallbackForm, redirects=True, database=False,
            ),
            cross_site=True,
        ),
    ),
    core=(
        CoreRoute("POST", "/recipe/signinup", cdi.sign_in_up, tenanted=True),
        CoreRoute("PUT", "/recipe/multitenancy/config/thirdparty", cdi.put_provider, tenanted=True),
        CoreRoute(
            "POST", "/recipe/multitenancy/config/thirdparty/remove", cdi.remove_provider,
            tenanted=True,
        ),
    ),
    tables=(schema.thirdparty_providers,),
    settings=ThirdPartySettings,
)  # fmt: skip
