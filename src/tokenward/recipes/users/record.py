"""Users and their login methods, which every login recipe writes: the core API's user routes."""

from __future__ import annotations

from tokenward.http.records import CoreRoute, RecipeRecord
from tokenward.recipes.users import cdi
from tokenward.shared.database import schema

RECORD = RecipeRecord(
    recipe_id="users",
    core=(
        CoreRoute("GET", "/user/id", cdi.user_by_id),
        CoreRoute("GET", "/users/by-accountinfo", cdi.users_by_account_info, tenanted=True),
        CoreRoute("GET", "/users", cdi.list_users, tenanted=True),
        CoreRoute("GET", "/users/count", cdi.count_users, tenanted=True),
        CoreRoute("POST", "/user/remove", cdi.remove_user),
    ),
    tables=(schema.users, schema.login_methods, schema.login_method_tenants),
)
