"""The third-party recipe (social and enterprise sign-in). So far: the provider rules, the
store, and the core API's sign-in/up, which an app on supertokens-python uses (its SDK talks to
the provider). The frontend API comes next (docs/architecture.md)."""

from __future__ import annotations

from tokenward.http.records import CoreRoute, RecipeRecord
from tokenward.recipes.thirdparty import cdi
from tokenward.recipes.thirdparty.settings import ThirdPartySettings

RECORD = RecipeRecord(
    recipe_id="thirdparty",
    core=(CoreRoute("POST", "/recipe/signinup", cdi.sign_in_up, tenanted=True),),
    settings=ThirdPartySettings,
)
