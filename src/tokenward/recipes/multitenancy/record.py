"""Multi-tenancy: the ``/<tenant_id>`` segment of the routes and the tenants themselves (only
``public`` so far)."""

from __future__ import annotations

from tokenward.http.records import CoreRoute, RecipeRecord
from tokenward.recipes.multitenancy import cdi
from tokenward.shared.database import schema

RECORD = RecipeRecord(
    recipe_id="multitenancy",
    core=(CoreRoute("GET", "/recipe/multitenancy/tenant/v2", cdi.tenant, tenanted=True),),
    tables=(schema.tenants,),
)
