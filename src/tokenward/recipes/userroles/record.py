"""User roles and permissions: the ``st-role`` and ``st-perm`` claims and their core API."""

from __future__ import annotations

from tokenward.http.records import CoreRoute, RecipeRecord
from tokenward.recipes.userroles import cdi
from tokenward.recipes.userroles.service import PERMISSIONS_CLAIM, ROLES_CLAIM
from tokenward.shared.database import schema

RECORD = RecipeRecord(
    recipe_id="userroles",
    core=(
        CoreRoute("PUT", "/recipe/role", cdi.put_role),
        CoreRoute("GET", "/recipe/role/permissions", cdi.role_permissions),
        CoreRoute("POST", "/recipe/role/permissions/remove", cdi.remove_role_permissions),
        CoreRoute("GET", "/recipe/permission/roles", cdi.permission_roles),
        CoreRoute("POST", "/recipe/role/remove", cdi.remove_role),
        CoreRoute("GET", "/recipe/roles", cdi.all_roles),
        CoreRoute("PUT", "/recipe/user/role", cdi.add_user_role, tenanted=True),
        CoreRoute("POST", "/recipe/user/role/remove", cdi.remove_user_role, tenanted=True),
        CoreRoute("GET", "/recipe/user/roles", cdi.user_roles, tenanted=True),
        CoreRoute("GET", "/recipe/role/users", cdi.role_users, tenanted=True),
    ),
    tables=(schema.roles, schema.role_permissions, schema.user_roles),
    claims=(ROLES_CLAIM, PERMISSIONS_CLAIM),
)
