"""Multi-tenancy: the ``/<tenant_id>`` segment of the routes, the tenants themselves (only
``public`` so far) and the login methods a tenant offers."""

from __future__ import annotations

from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.recipes.multitenancy import cdi, fdi
from tokenward.recipes.multitenancy import schemas as s
from tokenward.shared.database import schema

MT = "multitenancy"

RECORD = RecipeRecord(
    recipe_id=MT,
    frontend=(
        FrontendRoute(
            "GET", "/loginmethods", fdi.login_methods,
            Operation(
                "loginMethods", "The ways to sign in this tenant offers", "Multitenancy Recipe",
                s.LoginMethods, rid=MT, database=False,
            ),
            tenanted=True,
        ),
    ),
    core=(CoreRoute("GET", "/recipe/multitenancy/tenant/v2", cdi.tenant, tenanted=True),),
    tables=(schema.tenants,),
)  # fmt: skip
